/**
 * What the attendee app's router and the console's router share: reading a path into its segments, and
 * telling which clicks on links they may handle without a page load.
 */

/**
 * The decoded segments of `path` below `base` ("/sessions/a%20b" gives ["sessions", "a b"]).
 *
 * @returns null when `path` is not under `base` or holds a malformed percent-escape (`%E0%A4%A`): the
 *   router shows its not-found view instead of failing with "URI malformed".
 */
export function pathSegments(path: string, base = ""): string[] | null {
  if (base && path !== base && !path.startsWith(`${base}/`)) return null;
  try {
    return path.slice(base.length).split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
}

/**
 * The same-origin link a plain left click followed, or null when the browser should handle the click
 * (a modifier key, another window, a download, another origin, or a click already handled).
 */
export function followedLink(event: MouseEvent): HTMLAnchorElement | null {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (!anchor || (anchor.target && anchor.target !== "_self")) return null;
  if (anchor.hasAttribute("download") || anchor.origin !== window.location.origin) return null;
  return anchor;
}

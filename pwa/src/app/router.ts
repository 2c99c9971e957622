/** Path-based routes without a library: the current location as a signal, and in-app link clicks. */

import { computed, signal } from "@preact/signals";

import { followedLink, pathSegments } from "../shared/routing";

export type Route =
  | { name: "now" }
  | { name: "programme" }
  | { name: "session"; id: string }
  | { name: "speakers" }
  | { name: "speaker"; id: string }
  | { name: "agenda" }
  | { name: "changes" }
  | { name: "announcements" }
  | { name: "announcement"; id: string }
  | { name: "info" }
  | { name: "infoPage"; slug: string }
  | { name: "map" }
  | { name: "notes" }
  | { name: "note"; uuid: string }
  | { name: "device" }
  | { name: "notFound" };

export const location = signal({ path: window.location.pathname, search: window.location.search });
/** Set when a navigation inside the app happened, so the view can move focus to its heading. */
export const navigated = signal(0);

export function parseRoute(path: string): Route {
  const parts = pathSegments(path);
  if (parts === null) return { name: "notFound" };
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { name: "notFound" };
  if (first === undefined) return { name: "now" };
  if (second === undefined) {
    switch (first) {
      case "programme":
        return { name: "programme" };
      case "speakers":
        return { name: "speakers" };
      case "agenda":
        return { name: "agenda" };
      case "changes":
        return { name: "changes" };
      case "announcements":
        return { name: "announcements" };
      case "info":
        return { name: "info" };
      case "map":
        return { name: "map" };
      case "notes":
        return { name: "notes" };
      case "device":
        return { name: "device" };
    }
    return { name: "notFound" };
  }
  if (first === "sessions") return { name: "session", id: second };
  if (first === "speakers") return { name: "speaker", id: second };
  if (first === "notes") return { name: "note", uuid: second };
  if (first === "announcements") return { name: "announcement", id: second };
  if (first === "info") return { name: "infoPage", slug: second };
  return { name: "notFound" };
}

/** The path alone, so a change of the query (a filter, a search) does not re-render what depends on the route. */
const path = computed(() => location.value.path);
export const route = computed(() => parseRoute(path.value));
export const query = computed(() => new URLSearchParams(location.value.search));

function sync(): void {
  location.value = { path: window.location.pathname, search: window.location.search };
}

/** Go to an app URL; `replace` changes the current history entry (filters, day tabs). */
export function navigate(url: string, { replace = false } = {}): void {
  const target = new URL(url, window.location.href);
  const samePage = target.pathname === window.location.pathname;
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  sync();
  if (!samePage) {
    window.scrollTo(0, 0);
    navigated.value += 1;
  } else if (target.hash) {
    document.getElementById(target.hash.slice(1))?.scrollIntoView();
  }
}

/** Links to the server's own pages (API, schema, health) and to the console load normally; the rest are the app's. */
function isAppLink(anchor: HTMLAnchorElement): boolean {
  return !/^\/(api|schema|healthz|admin)(\/|$)/.test(anchor.pathname);
}

/** Handle clicks on same-origin links inside the app without a page load. */
export function startRouter(): void {
  document.addEventListener("click", (event) => {
    const anchor = followedLink(event);
    if (!anchor || !isAppLink(anchor)) return;
    // A jump within the page (the skip link): the browser moves focus itself.
    if (anchor.hash && anchor.pathname === window.location.pathname && anchor.search === window.location.search) return;
    event.preventDefault();
    navigate(anchor.href);
  });
  window.addEventListener("popstate", () => {
    // Chromium also fires popstate for a jump within the page (the skip link); focus stays where the browser put it.
    const samePage = location.value.path === window.location.pathname;
    sync();
    if (!samePage) navigated.value += 1;
  });
}

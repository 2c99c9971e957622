/** The console's routes under /admin, as a signal; links inside the console change it without a page load. */

import { computed, signal } from "@preact/signals";

import { followedLink, pathSegments } from "../shared/routing";
import type { Area } from "./roles";

/** The programme kinds the editor lists and edits. */
export type Kind = "sessions" | "speakers" | "rooms" | "tracks";
export const KINDS: readonly Kind[] = ["sessions", "speakers", "rooms", "tracks"];

export type Route =
  | { name: "home" }
  | { name: "list"; kind: Kind }
  | { name: "edit"; kind: Kind; id: string | null }
  | { name: "import" }
  | { name: "floorPlans" }
  | { name: "infoPages" }
  | { name: "source" }
  | { name: "announcements" }
  | { name: "room-status" }
  | { name: "history" }
  | { name: "feedback" }
  | { name: "organisers" }
  | { name: "translations" }
  | { name: "translate"; kind: string; id: string }
  | { name: "notFound" };

export const BASE = "/admin";

function isKind(value: string | undefined): value is Kind {
  return (KINDS as readonly string[]).includes(value ?? "");
}

/** The route of a path; "new" as an id opens an empty form. */
export function parseRoute(path: string): Route {
  const parts = pathSegments(path, BASE);
  if (parts === null) return { name: "notFound" };
  const [first, second, ...rest] = parts;
  if (first === "translations") {
    if (second === undefined) return { name: "translations" };
    if (rest.length === 1 && rest[0]) return { name: "translate", kind: second, id: rest[0] };
    return { name: "notFound" };
  }
  if (rest.length) return { name: "notFound" };
  if (first === undefined) return { name: "home" };
  if (isKind(first)) {
    if (second === undefined) return { name: "list", kind: first };
    return { name: "edit", kind: first, id: second === "new" ? null : second };
  }
  if (second !== undefined) return { name: "notFound" };
  switch (first) {
    case "programme":
      return { name: "list", kind: "sessions" };
    case "floor-plans":
      return { name: "floorPlans" };
    case "info-pages":
      return { name: "infoPages" };
    case "import":
    case "source":
    case "announcements":
    case "room-status":
    case "history":
    case "feedback":
    case "organisers":
      return { name: first };
  }
  return { name: "notFound" };
}

/** The area a route belongs to (for the navigation and the role check). */
export function areaOf(route: Route): Area | null {
  switch (route.name) {
    case "list":
    case "edit":
    case "floorPlans":
    case "infoPages":
    case "translations":
    case "translate":
      return "programme";
    case "import":
    case "source":
    case "announcements":
    case "room-status":
    case "history":
    case "feedback":
    case "organisers":
      return route.name;
    default:
      return null;
  }
}

/** The path of an area's first screen. */
export function areaPath(area: Area): string {
  return area === "programme" ? `${BASE}/sessions` : `${BASE}/${area}`;
}

export function editPath(kind: Kind, id: string | null): string {
  return `${BASE}/${kind}/${id === null ? "new" : encodeURIComponent(id)}`;
}

export const path = signal(typeof window === "undefined" ? BASE : window.location.pathname);
export const route = computed(() => parseRoute(path.value));

let focusPending = false;

/** Ask the next view that renders to take focus on its heading (after a navigation or a change of screen). */
export function requestFocus(): void {
  focusPending = true;
}

/** Whether a view should take focus now (the request is used up). */
export function takeFocusRequest(): boolean {
  const pending = focusPending;
  focusPending = false;
  return pending;
}

/** Go to a console path; `replace` keeps the history entry (the home redirect). */
export function navigate(to: string, { replace = false } = {}): void {
  const target = new URL(to, window.location.href);
  if (target.pathname === window.location.pathname && !replace) return;
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  if (!replace) {
    window.scrollTo(0, 0);
    requestFocus();
  }
  path.value = window.location.pathname;
}

/** Same-origin links to /admin/… are handled here; everything else loads normally. */
export function startRouter(): void {
  document.addEventListener("click", (event) => {
    const anchor = followedLink(event);
    if (!anchor) return;
    if (anchor.pathname !== BASE && !anchor.pathname.startsWith(`${BASE}/`)) return;
    if (anchor.hash && anchor.pathname === window.location.pathname) return;
    event.preventDefault();
    navigate(anchor.href);
  });
  window.addEventListener("popstate", () => {
    if (path.value === window.location.pathname) return;
    requestFocus();
    path.value = window.location.pathname;
  });
}

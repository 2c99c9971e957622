/**
 * The page's side of the service worker: register it, say "Ready to work offline" after the first
 * install, offer "Update available — Reload" when a new version waits, and apply it on request.
 */

import { signal } from "@preact/signals";

export type Notice = "ready" | "update" | null;

export const notice = signal<Notice>(null);
/** The browser offered to install the app (Chromium's beforeinstallprompt). */
export const installPrompt = signal<{ prompt(): Promise<unknown> } | null>(null);
export const installed = signal(window.matchMedia?.("(display-mode: standalone)").matches ?? false);

let waiting: ServiceWorker | null = null;
let reloadRequested = false;

function offerUpdate(worker: ServiceWorker): void {
  waiting = worker;
  notice.value = "update";
}

function watch(worker: ServiceWorker): void {
  worker.addEventListener("statechange", () => {
    if (worker.state !== "installed") return;
    if (navigator.serviceWorker.controller) offerUpdate(worker);
    else notice.value = "ready";
  });
}

/** Activate the waiting version; the page reloads once it has taken over. */
export function applyUpdate(): void {
  reloadRequested = true;
  if (waiting) waiting.postMessage({ type: "SKIP_WAITING" });
  else window.location.reload();
}

export function dismissNotice(): void {
  notice.value = null;
}

export async function registerServiceWorker(): Promise<void> {
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt.value = event as unknown as { prompt(): Promise<unknown> };
  });
  window.addEventListener("appinstalled", () => {
    installed.value = true;
    installPrompt.value = null;
  });
  if (!("serviceWorker" in navigator) || !import.meta.env.PROD) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloadRequested) window.location.reload();
  });
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
  if (registration.installing) watch(registration.installing);
  registration.addEventListener("updatefound", () => {
    if (registration.installing) watch(registration.installing);
  });
  // Where the browser grants it (installed apps in Chromium), the worker follows the feed in the background.
  const periodic = (registration as unknown as { periodicSync?: { register(tag: string, options: object): Promise<void> } }).periodicSync;
  void periodic?.register("programme", { minInterval: 60 * 60_000 }).catch(() => undefined);
  // Look for a new version whenever the attendee comes back to the app, at most every ten minutes.
  let checked = Date.now();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || Date.now() - checked < 600_000) return;
    checked = Date.now();
    void registration.update().catch(() => undefined);
  });
}

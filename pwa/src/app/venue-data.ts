/**
 * The Info pages and floor plans, kept on the device for offline use: the JSON in localStorage (it is small and
 * public), the plan images in the Cache Storage the service worker answers from. Refreshed at start, whenever
 * the connection comes back, and the pages when the live stream says they changed.
 */

import { signal } from "@preact/signals";

import { PLAN_CACHE, planImages, type InfoPage, type Venue } from "../shared/venue";

const PAGES_KEY = "kumpul.infoPages";
const VENUE_KEY = "kumpul.venue";

function stored<T>(key: string): T | null {
  try {
    return JSON.parse(localStorage.getItem(key) ?? "null") as T | null;
  } catch {
    return null;
  }
}

export const infoPages = signal<InfoPage[] | null>(stored<InfoPage[]>(PAGES_KEY));
export const venue = signal<Venue | null>(stored<Venue>(VENUE_KEY));

/** The screen's width in device pixels, which decides between a plan's phone copy and the plan as uploaded. */
export const screenPixels = (): number => Math.round(Math.max(window.screen.width, window.innerWidth) * (window.devicePixelRatio || 1));

async function fetchJson<T>(path: string): Promise<T | null> {
  try {
    const response = await fetch(path, { cache: "no-cache" });
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

/** Keep the plan images this device shows in the cache, and only those (older versions and other sizes go). */
async function keepPlans(current: Venue): Promise<void> {
  if (!("caches" in window)) return;
  const wanted = new Set([...planImages(current.plans, screenPixels()).values()].map((image) => new URL(image.url, window.location.origin).href));
  const cache = await caches.open(PLAN_CACHE);
  for (const request of await cache.keys()) if (!wanted.has(request.url)) await cache.delete(request);
  for (const url of wanted) if (!(await cache.match(url))) await cache.add(url);
}

let refreshing: Promise<void> | null = null;
let readingPages: Promise<void> | null = null;

function keepPages(pages: InfoPage[]): void {
  infoPages.value = pages;
  localStorage.setItem(PAGES_KEY, JSON.stringify(pages));
}

/** Read the Info pages again (the live stream's `info` event: an organiser changed one or its translations). */
export function refreshPages(): Promise<void> {
  readingPages ??= (async () => {
    const pages = await fetchJson<InfoPage[]>("/api/info-pages");
    if (pages) keepPages(pages);
  })().finally(() => (readingPages = null));
  return readingPages;
}

export function refreshVenue(): Promise<void> {
  refreshing ??= (async () => {
    const [pages, plans] = await Promise.all([fetchJson<InfoPage[]>("/api/info-pages"), fetchJson<Venue>("/api/venue")]);
    if (pages) keepPages(pages);
    if (plans) {
      venue.value = plans;
      localStorage.setItem(VENUE_KEY, JSON.stringify(plans));
      await keepPlans(plans).catch(() => undefined);
    }
  })().finally(() => (refreshing = null));
  return refreshing;
}

export function startVenue(): void {
  void refreshVenue();
  window.addEventListener("online", () => void refreshVenue());
}

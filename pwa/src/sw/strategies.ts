/** The service worker's named strategies: the app shell for navigations, and a bounded photo cache. */

import { createHandlerBoundToURL } from "workbox-precaching";
import { NavigationRoute, Route } from "workbox-routing";
import { CacheFirst } from "workbox-strategies";
import { ExpirationPlugin } from "workbox-expiration";

import { PLAN_CACHE } from "../shared/venue";

/**
 * Paths the server owns: never answered with the app shell. The organisers' console at /admin is
 * its own page, never precached, and always comes from the network.
 */
const SERVER_PATHS = [/^\/api(\/|$)/, /^\/schema(\/|$)/, /^\/healthz(\/|$)/, /^\/admin(\/|\.html$|$)/];

/** Every in-app navigation gets the precached index.html, online or not; the app routes from there. */
export function appShell(): NavigationRoute {
  return new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: SERVER_PATHS });
}

/**
 * Floor plan images: from the cache the app fills within its byte budget (`app/venue-data.ts`), else the network.
 * Their addresses carry the plan's version, so a cached image is never stale.
 */
export function floorPlans(): Route {
  return new Route(({ sameOrigin, url }) => sameOrigin && /^\/api\/floor-plans\/[^/]+\/image$/.test(url.pathname), new CacheFirst({ cacheName: PLAN_CACHE }));
}

export const PHOTO_CACHE = "kumpul-speaker-photos";

/**
 * Speaker photos (same-origin images that are not part of the build): cache first, at most 300
 * photos for 30 days, dropped first when storage runs short.
 */
export function speakerPhotos(): Route {
  return new Route(
    ({ request, sameOrigin, url }) =>
      sameOrigin && request.destination === "image" && !url.pathname.startsWith("/assets/") && !SERVER_PATHS.some((p) => p.test(url.pathname)),
    new CacheFirst({
      cacheName: PHOTO_CACHE,
      plugins: [new ExpirationPlugin({ maxEntries: 300, maxAgeSeconds: 30 * 24 * 3600, purgeOnQuotaError: true })],
    }),
  );
}

/**
 * Kumpul's service worker: wires events to named strategies and stays short.
 *
 * Precaches the build (with revisions), answers navigations with the app shell, caches speaker
 * photos with a bound, activates a new version only when the attendee asks, and follows the
 * change feed in the background where the browser grants periodic sync.
 */

import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, precacheAndRoute } from "workbox-precaching";
import { registerRoute } from "workbox-routing";

import { syncProgramme } from "../shared/sync";
import { appShell, speakerPhotos } from "./strategies";

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: { url: string; revision: string | null }[] };

interface PeriodicSyncEvent extends ExtendableEvent {
  readonly tag: string;
}

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(appShell());
registerRoute(speakerPhotos());

// The first version takes charge of open pages at once; later ones wait for "Reload".
clientsClaim();

self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting();
});

self.addEventListener("periodicsync" as keyof ServiceWorkerGlobalScopeEventMap, (event) => {
  const periodic = event as unknown as PeriodicSyncEvent;
  if (periodic.tag !== "programme") return;
  periodic.waitUntil(
    syncProgramme().then(async (outcome) => {
      if (outcome === "current") return;
      for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "PROGRAMME_UPDATED" });
    }),
  );
});

/**
 * Kumpul's service worker: wires events to named strategies and stays short.
 *
 * Precaches the build (with revisions), answers navigations with the app shell, caches speaker
 * photos with a bound, activates a new version only when the attendee asks, and follows the
 * change feed in the background where the browser grants periodic sync, and shows Web Push
 * messages as notifications (`push.ts`).
 */

import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, precacheAndRoute } from "workbox-precaching";
import { registerRoute } from "workbox-routing";

import { syncProgramme } from "../shared/sync";
import { openFromNotification, resubscribe, showPush, type PushSubscriptionChange } from "./push";
import { PRIVATE_SYNC_TAG, backgroundPrivateSync, type SyncEvent } from "./private-sync";
import { appShell, floorPlans, speakerPhotos } from "./strategies";

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: { url: string; revision: string | null }[] };

interface PeriodicSyncEvent extends ExtendableEvent {
  readonly tag: string;
}

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(appShell());
registerRoute(floorPlans());
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

self.addEventListener("push", (event) => event.waitUntil(showPush(event.data, self.registration)));
self.addEventListener("notificationclick", (event) => event.waitUntil(openFromNotification(event.notification, self.clients)));
self.addEventListener("pushsubscriptionchange" as keyof ServiceWorkerGlobalScopeEventMap, (event) => {
  const change = event as unknown as ExtendableEvent & PushSubscriptionChange;
  change.waitUntil(resubscribe(change, self.registration));
});

// Notes and bookmarks saved offline are sent once a connection is back, also with the app closed.
self.addEventListener("sync" as keyof ServiceWorkerGlobalScopeEventMap, (event) => {
  const sync = event as unknown as SyncEvent;
  if (sync.tag === PRIVATE_SYNC_TAG) sync.waitUntil(backgroundPrivateSync());
});

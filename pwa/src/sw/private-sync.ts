/**
 * Background Sync for the attendee's private documents: when the page saved a change it could not
 * send (offline), it registers the tag below; the browser wakes the worker once a connection is
 * back, even with the app closed, and the worker runs the same round trip as the page. Open pages
 * then read the merged documents again.
 */

import { IdentityLostError } from "../shared/private-api";
import { syncPrivateDocs } from "../shared/private-sync";

declare let self: ServiceWorkerGlobalScope;

export const PRIVATE_SYNC_TAG = "kumpul-private";

export interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance?: boolean;
}

/** Sync, then tell open pages which documents changed; a failure lets the browser retry later. */
export async function backgroundPrivateSync(): Promise<void> {
  try {
    const result = await syncPrivateDocs({ timeoutMs: 20_000 });
    const ids = [...new Set([...result.received, ...result.sent, ...result.refused.map((item) => item.id)])];
    for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "PRIVATE_SYNCED", ids });
  } catch (error) {
    // Nothing to retry once the attendee is gone: the page says so and offers to start again.
    if (error instanceof IdentityLostError) return;
    throw error;
  }
}

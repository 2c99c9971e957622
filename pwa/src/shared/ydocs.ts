/**
 * The attendee's private documents for the rest of the app, without loading Yjs up front:
 * everything here loads `ydocs-engine` (and Yjs) on first use.
 *
 * For announcements: `markAnnouncementsRead(ids)` and `subscribeReadAnnouncements(listener)` keep
 * the read state in the profile document's Y.Map `read`, synced across the attendee's devices.
 */

import type { PrivateDocs } from "./ydocs-engine";

export type { DocState, NoteInfo, PrivateDocs } from "./ydocs-engine";

let loading: Promise<PrivateDocs> | null = null;
let loaded: PrivateDocs | null = null;

/** The documents, loading Yjs and reading IndexedDB the first time. */
export function privateDocs(): Promise<PrivateDocs> {
  loading ??= import("./ydocs-engine")
    .then((engine) => engine.open())
    .then((docs) => (loaded = docs));
  return loading;
}

/** The documents if they are loaded already, else null (never starts loading). */
export function privateDocsNow(): PrivateDocs | null {
  return loaded;
}

/** Mark announcements read on every device of the attendee. */
export async function markAnnouncementsRead(ids: Iterable<string>): Promise<void> {
  (await privateDocs()).markAnnouncementsRead(ids);
}

/** Call `listener` with the ids of read announcements now and after every change; returns the unsubscribe. */
export function subscribeReadAnnouncements(listener: (ids: ReadonlySet<string>) => void): () => void {
  let stop: (() => void) | null = null;
  let cancelled = false;
  void privateDocs().then((docs) => {
    if (cancelled) return;
    let last = "";
    const tell = () => {
      const ids = docs.readAnnouncements();
      const key = [...ids].sort().join("\n");
      if (key === last) return;
      last = key;
      listener(ids);
    };
    tell();
    stop = docs.subscribe(tell);
  });
  return () => {
    cancelled = true;
    stop?.();
  };
}

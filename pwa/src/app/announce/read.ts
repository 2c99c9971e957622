/**
 * Which announcements the attendee has read, behind two small functions: kept in the profile
 * document's Y.Map `read` (`shared/ydocs.ts`), so it travels to the attendee's other devices.
 * A mark shows at once; the document (and Yjs) may still be loading.
 */

import { signal } from "@preact/signals";

import { markAnnouncementsRead, subscribeReadAnnouncements } from "../../shared/ydocs";

/** Marked on this page: shown before the document has them (marks are never undone). */
const marked = new Set<string>();
let stored: ReadonlySet<string> = new Set();

/** The read ids as a signal, for views and counts. */
export const readIds = signal<ReadonlySet<string>>(new Set());
/** The marks have been read from the device (until then nothing is called unread, so nothing flickers). */
export const readReady = signal(false);
/** Show unread marks anyway if the document takes longer than this to open. */
const READY_FALLBACK_MS = 3_000;

function publish(): void {
  readIds.value = marked.size ? new Set([...stored, ...marked]) : stored;
}

export function isRead(id: string): boolean {
  return readIds.value.has(id);
}

/** Mark announcements read (the ones already read stay as they are). */
export function markRead(...ids: string[]): void {
  const fresh = ids.filter((id) => !readIds.value.has(id));
  if (fresh.length === 0) return;
  for (const id of fresh) marked.add(id);
  publish();
  markAnnouncementsRead(fresh).catch((error: unknown) => console.warn("Kumpul could not keep the read marks", error));
}

/** Follow the read marks of the profile document (this device's edits, other tabs, other devices). */
export function startReadState(): void {
  const fallback = setTimeout(() => (readReady.value = true), READY_FALLBACK_MS);
  subscribeReadAnnouncements((ids) => {
    stored = ids;
    publish();
    clearTimeout(fallback);
    readReady.value = true;
  });
}

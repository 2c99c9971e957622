/**
 * What changed in the programme since the attendee last looked: sessions added, moved, re-roomed,
 * cancelled or removed. Computed on the device from the programme the change feed keeps current,
 * against the sessions as they were at the last look (kept in IndexedDB), so it works offline and
 * after a full refetch alike.
 */

import { computed, effect, signal } from "@preact/signals";

import { getChangesSeen, putChangesSeen, type ChangesSeen } from "../shared/db";
import type { Programme } from "../shared/types";
import { diffSessions, lookAt, type SessionChange } from "./changes-model";
import { programme } from "./store";

export type { ChangeKind, SessionChange } from "./changes-model";

/** The point the attendee last looked at; null until it is read from the device. */
export const seen = signal<ChangesSeen | null>(null);
export const changes = computed<SessionChange[]>(() => (seen.value && programme.value ? diffSessions(seen.value, programme.value) : []));
export const changeCount = computed(() => changes.value.length);

/**
 * Read the last look. On a first run the programme as it first arrives becomes the point to count from, so a
 * new attendee sees no "changes" that happened before they had the app.
 */
export async function startChanges(): Promise<void> {
  const stored = await getChangesSeen();
  if (stored) {
    seen.value = stored;
    return;
  }
  const stop = effect(() => {
    const current = programme.value;
    if (!current) return;
    void markSeen(current);
    queueMicrotask(() => stop());
  });
}

/** The attendee has seen the changes: count from the programme as it is now. */
export async function markSeen(current: Programme | null = programme.value): Promise<void> {
  if (!current) return;
  const next = lookAt(current);
  seen.value = next;
  await putChangesSeen(next);
}

/**
 * Room status as door staff set it (open, filling up, full, closed, an emergency message), for cards, the session
 * page and the map. It comes with `GET /api/room-status` when the app starts and as `room-status` events on the live
 * stream (each carries every current status); the last list is kept on the device, so an app opened offline still
 * shows what it last heard. A status ends by itself at its `until`, here as on the server. Fetching, keeping and
 * parsing live in room-status-sync.ts, loaded after the first screen (outside the app shell).
 */

import { computed, signal } from "@preact/signals";

import { t } from "./prefs";

export type RoomState = "open" | "filling" | "full" | "closed" | "emergency";

export interface RoomStatusEntry {
  state: RoomState;
  message: string;
  setAt: string;
  until: string;
}

/** Every status heard, lapsed or not (room-status-sync.ts fills it). */
export const heard = signal<ReadonlyMap<string, RoomStatusEntry>>(new Map());
/** Moves when the earliest status lapses, so `roomStatus` leaves it out at once. */
export const tick = signal(0);

/** Room id → its current status (lapsed ones left out). */
export const roomStatus = computed<ReadonlyMap<string, RoomStatusEntry>>(() => {
  void tick.value;
  const at = Date.now();
  const current = new Map<string, RoomStatusEntry>();
  for (const [roomId, entry] of heard.value) if (Date.parse(entry.until) > at) current.set(roomId, entry);
  return current;
});

/** What to show for a room's status ("Room full", "Emergency: …"), or null when it has none. */
export function roomStatusLabel(roomId: string): string | null {
  const entry = roomStatus.value.get(roomId);
  if (!entry) return null;
  const m = t.value;
  const label = { open: m.roomStateOpen, filling: m.roomStateFilling, full: m.roomStateFull, closed: m.roomStateClosed, emergency: m.roomStateEmergency }[entry.state];
  return entry.message ? `${label}: ${entry.message}` : label;
}

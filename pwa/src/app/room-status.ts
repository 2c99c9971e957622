/**
 * Room status as door staff set it (open, filling up, full, closed, an emergency message), for cards, the session
 * page and the map. It comes with `GET /api/room-status` when the app starts and as `room-status` events on the live
 * stream (each carries every current status); the last list is kept on the device, so an app opened offline still
 * shows what it last heard. A status ends by itself at its `until`, here as on the server.
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

const KEY = "kumpul.roomStatus";
const URL = "/api/room-status";
const STATES: readonly string[] = ["open", "filling", "full", "closed", "emergency"];

/** Every status heard, lapsed or not. */
const heard = signal<ReadonlyMap<string, RoomStatusEntry>>(new Map());
/** Moves when the earliest status lapses, so `roomStatus` leaves it out at once. */
const tick = signal(0);
let lapseTimer: ReturnType<typeof setTimeout> | undefined;

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

/** The statuses of a list as the server sends it, leaving out anything malformed. */
export function parseStatuses(value: unknown): Map<string, RoomStatusEntry> {
  const found = new Map<string, RoomStatusEntry>();
  for (const item of Array.isArray(value) ? (value as Partial<Record<string, unknown>>[]) : []) {
    const { roomId, state, message = "", setAt = "", until } = item ?? {};
    if (typeof roomId === "string" && STATES.includes(state as string) && typeof message === "string" && typeof until === "string" && Date.parse(until)) {
      found.set(roomId, { state: state as RoomState, message, setAt: String(setAt), until });
    }
  }
  return found;
}

function scheduleLapse(): void {
  clearTimeout(lapseTimer);
  const at = Date.now();
  const next = Math.min(...[...heard.value.values()].map((entry) => Date.parse(entry.until)).filter((until) => until > at));
  // A status lasts 12 hours at most, well inside what a timer can wait.
  if (next < Infinity) lapseTimer = setTimeout(() => ((tick.value += 1), scheduleLapse()), next - at + 50);
}

/** Take `statuses` as the whole current list (what the server and the live stream send). */
export function setStatuses(statuses: ReadonlyMap<string, RoomStatusEntry>): void {
  heard.value = statuses;
  tick.value += 1;
  scheduleLapse();
  try {
    localStorage.setItem(KEY, JSON.stringify([...statuses].map(([roomId, entry]) => ({ roomId, ...entry }))));
  } catch {
    // Private mode or storage full: the statuses last for this visit only.
  }
}

/** A `room-status` event of the live stream: `{rooms: [...]}`, every current status. */
export function onRoomStatusEvent(event: Event): void {
  try {
    const data = JSON.parse((event as MessageEvent<string>).data) as { rooms?: unknown } | null;
    setStatuses(parseStatuses(data?.rooms));
  } catch {
    // A malformed event changes nothing.
  }
}

/** Show the statuses last heard at once, then ask the server for the current ones. */
export function startRoomStatus(): void {
  try {
    const stored = localStorage.getItem(KEY);
    if (stored) {
      heard.value = parseStatuses(JSON.parse(stored));
      scheduleLapse();
    }
  } catch {
    // Nothing kept, or unreadable: wait for the server.
  }
  if (!navigator.onLine) return;
  void fetch(URL, { headers: { Accept: "application/json" } })
    .then(async (response) => (response.ok ? setStatuses(parseStatuses(await response.json())) : undefined))
    .catch(() => undefined);
}

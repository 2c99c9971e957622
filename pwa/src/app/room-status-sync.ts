/**
 * Room status from the server: `GET /api/room-status` at start, `room-status` events from the live stream, and the
 * last list kept on the device for offline starts. Loaded after the first screen; room-status.ts holds what views read.
 */

import { heard, tick, type RoomState, type RoomStatusEntry } from "./room-status";

const KEY = "kumpul.roomStatus";
const URL = "/api/room-status";
const STATES: readonly string[] = ["open", "filling", "full", "closed", "emergency"];
let lapseTimer: ReturnType<typeof setTimeout> | undefined;

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
export function startRoomStatusSync(): void {
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

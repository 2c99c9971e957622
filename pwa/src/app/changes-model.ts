/**
 * What changed between the programme the attendee last looked at and the current one: sessions added,
 * moved, re-roomed, cancelled or removed. Pure functions, used by `changes.ts`.
 */

import type { ChangesSeen, SeenSession } from "../shared/db";
import { instant } from "../shared/feed";
import type { Programme, Session } from "../shared/types";

export type ChangeKind = "added" | "moved" | "re-roomed" | "cancelled" | "removed";

export interface SessionChange {
  id: string;
  title: string;
  /** What changed; a session can be moved and re-roomed at once. */
  kinds: ChangeKind[];
  before: SeenSession | null;
  after: Session | null;
}

function seenOf(session: Session): SeenSession {
  return [session.title, session.start, session.end, session.roomId, session.status ?? "scheduled"];
}

/** The programme's sessions as a point to count changes from. */
export function lookAt(current: Programme): ChangesSeen {
  return { cursor: current.cursor, sessions: Object.fromEntries(current.sessions.map((session) => [session.id, seenOf(session)])) };
}

/** The sessions that changed between `seen` and `current`, in programme order, removed ones last. */
export function diffSessions(seen: ChangesSeen, current: Programme): SessionChange[] {
  const found: SessionChange[] = [];
  for (const session of current.sessions) {
    const before = seen.sessions[session.id] ?? null;
    const kinds: ChangeKind[] = [];
    if (before === null) {
      kinds.push(session.status === "cancelled" ? "cancelled" : "added");
    } else {
      const [, start, end, roomId, status] = before;
      if (instant(start) !== instant(session.start) || instant(end) !== instant(session.end)) kinds.push("moved");
      if (roomId !== session.roomId) kinds.push("re-roomed");
      if (status !== "cancelled" && session.status === "cancelled") kinds.push("cancelled");
    }
    if (kinds.length) found.push({ id: session.id, title: session.title, kinds, before, after: session });
  }
  const present = new Set(current.sessions.map((session) => session.id));
  for (const [id, before] of Object.entries(seen.sessions)) {
    if (!present.has(id)) found.push({ id, title: before[0], kinds: ["removed"], before, after: null });
  }
  return found;
}

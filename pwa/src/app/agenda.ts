/** My agenda: bookmarked sessions by day, and which of them clash. */

import { instant } from "../shared/feed";
import type { Session } from "../shared/types";

/**
 * For each session, the others that overlap it in time (they share more than an instant).
 * Cancelled sessions clash with nothing.
 */
export function findOverlaps(sessions: readonly Session[]): Map<string, Session[]> {
  const active = sessions
    .filter((session) => session.status !== "cancelled")
    .map((session) => ({ session, start: instant(session.start), end: instant(session.end) }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const overlaps = new Map<string, Session[]>();
  const add = (a: Session, b: Session) => {
    const list = overlaps.get(a.id) ?? [];
    list.push(b);
    overlaps.set(a.id, list);
  };
  for (let i = 0; i < active.length; i++) {
    const a = active[i]!;
    for (let j = i + 1; j < active.length && active[j]!.start < a.end; j++) {
      const b = active[j]!;
      if (b.end > a.start && b.start < a.end) {
        add(a.session, b.session);
        add(b.session, a.session);
      }
    }
  }
  return overlaps;
}

/**
 * How long before each bookmarked session the attendee wants a reminder (kept on this device), and which
 * reminders are due at a moment.
 */

import { signal } from "@preact/signals";

import { instant } from "../shared/feed";
import type { Session } from "../shared/types";

const MINUTE = 60_000;

/** The lead times offered, in minutes; the server accepts the same (`ReminderMinutes` in server/schemas). */
export const REMINDER_MINUTES = [5, 10, 15, 30] as const;
export type ReminderMinutes = (typeof REMINDER_MINUTES)[number];
/** What turning notifications on chooses when the attendee has not chosen yet. */
export const DEFAULT_REMINDER: ReminderMinutes = 10;

const MINUTES_KEY = "kumpul.reminders";

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function parseMinutes(value: string | null): ReminderMinutes | null {
  const n = Number(value);
  return (REMINDER_MINUTES as readonly number[]).includes(n) ? (n as ReminderMinutes) : null;
}

/** Minutes before each bookmarked session; null: no reminders. Not chosen yet: undefined. */
const stored = read(MINUTES_KEY);
export const reminderMinutes = signal<ReminderMinutes | null | undefined>(stored === null ? undefined : parseMinutes(stored));

export function setReminderMinutes(value: ReminderMinutes | null): void {
  reminderMinutes.value = value;
  try {
    localStorage.setItem(MINUTES_KEY, value === null ? "off" : String(value));
  } catch {
    // Private mode: for this visit only.
  }
}

export function reminderKey(session: Pick<Session, "id" | "start">): string {
  return `${session.id}@${instant(session.start)}`;
}

/** Bookmarked sessions whose reminder is due at `now`: not cancelled, starting within `minutes`, not dismissed. */
export function dueReminders(
  sessions: Iterable<Session>,
  bookmarked: ReadonlySet<string>,
  minutes: number,
  now: number,
  dismissed: ReadonlySet<string>,
): Session[] {
  const due: Session[] = [];
  for (const session of sessions) {
    if (!bookmarked.has(session.id) || session.status === "cancelled") continue;
    const start = instant(session.start);
    if (start - minutes * MINUTE <= now && now < start && !dismissed.has(reminderKey(session))) due.push(session);
  }
  return due.sort((a, b) => instant(a.start) - instant(b.start));
}

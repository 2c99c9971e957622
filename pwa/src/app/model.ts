/** The programme arranged for the views: lookups by id, the event's days and time slots. */

import { instant } from "../shared/feed";
import type { Announcement, Format, Programme, Room, Session, Speaker, Track } from "../shared/types";
import { dayKey, daysBetween } from "./time";

export interface Model {
  programme: Programme;
  zone: string;
  days: string[];
  sessions: Map<string, Session>;
  speakers: Map<string, Speaker>;
  rooms: Map<string, Room>;
  tracks: Map<string, Track>;
  formats: Map<string, Format>;
  /** Session ids of each day (in the event's time zone), in programme order. */
  byDay: Map<string, Session[]>;
  /** Sessions of each speaker, in programme order. */
  bySpeaker: Map<string, Session[]>;
}

export interface Slot {
  start: string;
  sessions: Session[];
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

export function buildModel(programme: Programme): Model {
  const zone = programme.event?.timeZone || "UTC";
  const byDay = new Map<string, Session[]>();
  const bySpeaker = new Map<string, Session[]>();
  for (const session of programme.sessions) {
    push(byDay, dayKey(session.start, zone), session);
    for (const id of session.speakerIds ?? []) push(bySpeaker, id, session);
  }
  const event = programme.event;
  const days = new Set(event ? daysBetween(event.startDate, event.endDate) : []);
  for (const day of byDay.keys()) days.add(day);
  return {
    programme,
    zone,
    days: [...days].sort(),
    sessions: new Map(programme.sessions.map((item) => [item.id, item])),
    speakers: new Map(programme.speakers.map((item) => [item.id, item])),
    rooms: new Map(programme.rooms.map((item) => [item.id, item])),
    tracks: new Map(programme.tracks.map((item) => [item.id, item])),
    formats: new Map(programme.formats.map((item) => [item.id, item])),
    byDay,
    bySpeaker,
  };
}

/** Sessions grouped by the instant they start, in time order: parallel sessions share a slot. */
export function groupSlots(sessions: readonly Session[]): Slot[] {
  const slots = new Map<number, Slot>();
  for (const session of sessions) {
    const key = instant(session.start);
    const slot = slots.get(key);
    if (slot) slot.sessions.push(session);
    else slots.set(key, { start: session.start, sessions: [session] });
  }
  return [...slots.entries()].sort(([a], [b]) => a - b).map(([, slot]) => slot);
}

export interface NowNext {
  /** "before", "during" or "after" the event's dates. */
  phase: "before" | "during" | "after";
  running: Session[];
  soon: Session[];
  /** When nothing runs or starts within the hour: the next slots, or the first day's opening ones. */
  later: Session[];
  /** The day `later` belongs to. */
  laterDay: string | null;
}

const HOUR = 3_600_000;

/**
 * What to show on the start page at `now`: sessions running and starting within the hour; and,
 * when that is empty, the next sessions today or the opening sessions of the next (or first) day.
 */
export function nowAndNext(model: Model, now: number, openingSlots = 2): NowNext {
  const today = dayKey(now, model.zone);
  const first = model.days[0] ?? today;
  const last = model.days[model.days.length - 1] ?? today;
  const phase = today < first ? "before" : today > last ? "after" : "during";
  const scheduled = model.programme.sessions.filter((session) => session.status !== "cancelled");
  const running = scheduled.filter((s) => instant(s.start) <= now && now < instant(s.end));
  const soon = scheduled.filter((s) => instant(s.start) > now && instant(s.start) <= now + HOUR);
  let later: Session[] = [];
  let laterDay: string | null = null;
  if (running.length === 0 && soon.length === 0) {
    const upcoming = phase === "after" ? [] : scheduled.filter((s) => instant(s.start) > now);
    const nextStart = upcoming[0];
    laterDay = nextStart ? dayKey(nextStart.start, model.zone) : first;
    const pool = nextStart ? upcoming.filter((s) => dayKey(s.start, model.zone) === laterDay) : (model.byDay.get(first) ?? []);
    const slots = groupSlots(pool.filter((s) => s.status !== "cancelled")).slice(0, openingSlots);
    later = slots.flatMap((slot) => slot.sessions);
  }
  return { phase, running, soon, later, laterDay };
}

export function isUrgent(item: Announcement): boolean {
  return item.urgent === true || item.priority === "urgent";
}

function published(item: Announcement): number {
  return instant(item.publishedAt ?? item.createdAt);
}

/** Urgent ones pinned on top, then newest first. */
export function orderAnnouncements(items: readonly Announcement[]): Announcement[] {
  return [...items].sort((a, b) => Number(isUrgent(b)) - Number(isUrgent(a)) || published(b) - published(a) || (a.id < b.id ? -1 : 1));
}

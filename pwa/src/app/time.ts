/**
 * Dates and times with Intl only. Every shown time comes with its zone named; days are the event's
 * days, counted in the event's time zone.
 */

import { dateTimeFormat as format } from "../shared/intl";
import type { Messages } from "./i18n";

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** The calendar day (YYYY-MM-DD) of a moment in a time zone. */
export function dayKey(moment: string | number | Date, zone: string): string {
  const parts = format("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(
    toDate(moment),
  );
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Every day from `first` to `last` (YYYY-MM-DD, inclusive). */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${last}T12:00:00Z`);
  for (let at = Date.parse(`${first}T12:00:00Z`); at <= end && days.length < 366; at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

/** A day as a short label, for example "Tue 23 Jul" (the day tabs). */
export function formatDayShort(day: string, locale: string): string {
  return format(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" })
    .format(new Date(`${day}T12:00:00Z`))
    .replace(",", "");
}

/** A day in full, for example "Tuesday, 23 July 2024". */
export function formatDayLong(day: string, locale: string): string {
  return format(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(
    new Date(`${day}T12:00:00Z`),
  );
}

/** A span of days, for example "23 – 25 Jul 2024". */
export function formatDayRange(first: string, last: string, locale: string): string {
  const formatter = format(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  return formatter.formatRange(new Date(`${first}T12:00:00Z`), new Date(`${last}T12:00:00Z`));
}

const times = new Map<string, string>();

/** The clock time of a moment in a zone, 24-hour, for example "09:00" (remembered: long lists ask for the same few). */
export function formatTime(moment: string | number | Date, zone: string, locale: string): string {
  const key = `${moment instanceof Date ? moment.getTime() : moment}|${zone}|${locale}`;
  let text = times.get(key);
  if (text === undefined) {
    if (times.size > 5_000) times.clear();
    text = format(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }).format(toDate(moment));
    times.set(key, text);
  }
  return text;
}

/**
 * The name of a time zone at a moment: "short" gives the abbreviation or offset people read
 * ("WITA", "GMT+8"), "long" the full name ("Central Indonesia Time").
 */
export function zoneName(zone: string, locale: string, at: string | number | Date = Date.now(), style: "short" | "long" = "short"): string {
  const parts = format(locale, { timeZone: zone, timeZoneName: style, hour: "numeric" }).formatToParts(toDate(at));
  return parts.find((part) => part.type === "timeZoneName")?.value ?? zone;
}

/** A time range with its zone named, for example "09:00–10:30 GMT+8". */
export function formatTimeRange(start: string, end: string, zone: string, locale: string): string {
  return `${formatTime(start, zone, locale)}–${formatTime(end, zone, locale)} ${zoneName(zone, locale, start)}`;
}

/** Whole minutes from `from` to `to`, rounded up (a session starting in 30 s starts "in 1 minute"). */
export function minutesUntil(from: number, to: number): number {
  return Math.max(0, Math.ceil((to - from) / 60_000));
}

/** A moment on the device's clock, for example "23 Jul 2024, 09:14". */
export function formatStamp(moment: number | string | Date, locale: string): string {
  return format(locale, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" }).format(toDate(moment));
}

/**
 * "Updated just now", "Updated 4 minutes ago", … for the moment the app last heard from the server that its
 * programme was current; "Changes waiting" while it knows of a change it has not loaded yet (`behind`).
 */
export function updatedText(messages: Messages, at: number | null, current: number, behind = false): string {
  if (behind) return messages.changesWaiting;
  if (at === null) return messages.notYetDownloaded;
  const minutes = Math.floor(Math.max(0, current - at) / 60_000);
  if (minutes < 1) return messages.updatedJustNow;
  if (minutes < 60) return messages.updatedMinutesAgo(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return messages.updatedHoursAgo(hours);
  return messages.updatedDaysAgo(Math.floor(hours / 24));
}

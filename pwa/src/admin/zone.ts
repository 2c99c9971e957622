/**
 * Times in the console: `datetime-local` inputs hold wall-clock times of the EVENT's time zone
 * (not the organiser's device), converted to and from ISO 8601 with the zone's UTC offset.
 */

import { dateTimeFormat as format } from "../shared/intl";

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock in `zone` at the instant `ms`. */
function wallClock(ms: number, zone: string): WallClock {
  const parts = format("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour") % 24, minute: get("minute"), second: get("second") };
}

/** Minutes `zone` is ahead of UTC at the instant `ms` (e.g. 480 for Asia/Makassar). */
export function offsetMinutes(ms: number, zone: string): number {
  const wall = wallClock(ms, zone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/** "+08:00", "-03:30", "+00:00". */
export function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** The value of a `datetime-local` input ("YYYY-MM-DDTHH:mm") for an instant, on the wall clock of `zone`. */
export function toLocalInput(iso: string | null | undefined, zone: string): string {
  if (!iso) return "";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "";
  const wall = wallClock(ms, zone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * ISO 8601 with the zone's offset ("2024-07-23T09:00:00+08:00") for a `datetime-local` value read
 * as a wall-clock time of `zone`; null when the value is empty or not a time.
 *
 * A wall time skipped by a daylight-saving change is read with the offset before the change (so
 * it moves forward by the jump); one that occurs twice is the first (as Temporal's "compatible").
 */
export function fromLocalInput(value: string, zone: string): string | null {
  const match = LOCAL_INPUT.exec(value.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(asUtc).getUTCDate() !== day) return null;
  const before = offsetMinutes(asUtc - 86_400_000, zone);
  const after = offsetMinutes(asUtc + 86_400_000, zone);
  const valid = [...new Set([before, after])].filter((offset) => offsetMinutes(asUtc - offset * 60_000, zone) === offset);
  const offset = valid.length ? Math.max(...valid) : before;
  const wall = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
  return `${wall}${offsetText(offset)}`;
}

/** The zone as people read it, for example "Asia/Makassar (UTC+08:00)". */
export function zoneLabel(zone: string, at: number = Date.now()): string {
  return `${zone} (UTC${offsetText(offsetMinutes(at, zone))})`;
}

/** "Tue 23 Jul, 09:00" in `zone`. */
export function formatMoment(iso: string, zone: string, locale = "en-GB"): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return format(locale, { timeZone: zone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .format(new Date(ms))
    .replace(/^(\w+),/, "$1");
}

/** "Tue 23 Jul" in `zone`. */
export function formatDay(iso: string, zone: string, locale = "en-GB"): string {
  return format(locale, { timeZone: zone, weekday: "short", day: "numeric", month: "short" }).format(new Date(iso)).replace(",", "");
}

/** "09:00" in `zone`. */
export function formatClock(iso: string, zone: string, locale = "en-GB"): string {
  return format(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** A full date and time with the zone named: "23 Jul 2024, 09:14:05 (Asia/Makassar)", for titles and tooltips. */
export function formatExact(iso: string, zone: string, locale = "en-GB"): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const text = format(locale, { timeZone: zone, dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" }).format(new Date(ms));
  return `${text} (${zone})`;
}

/** "just now", "5 minutes ago", "2 hours ago", "3 days ago"; "in 5 minutes" for the future. */
export function relativeTime(iso: string, now: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["minute", 60],
    ["hour", 3600],
    ["day", 86_400],
    ["month", 30 * 86_400],
    ["year", 365 * 86_400],
  ];
  let chosen: [Intl.RelativeTimeFormatUnit, number] = units[0]!;
  for (const unit of units) if (abs >= unit[1] * (unit[0] === "minute" ? 0.75 : 1)) chosen = unit;
  const value = Math.round(seconds / chosen[1]);
  return new Intl.RelativeTimeFormat("en", { numeric: "always" }).format(value, chosen[0]);
}

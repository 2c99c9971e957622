/**
 * Announcements without the DOM: links in plain text, who an announcement is for, what has
 * expired, what is unread, and live events merged with the stored programme.
 */

import { instant } from "../../shared/feed";
import type { Announcement } from "../../shared/types";
import { orderAnnouncements } from "../model";

export { isUrgent, orderAnnouncements } from "../model";

export type Segment = { text: string; href?: undefined } | { text: string; href: string };

/** Candidates: http(s) URLs up to the next space or a character that never ends a URL in prose. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/giu;
/** Punctuation that ends a sentence rather than the URL: "see https://example.org." */
const TRAILING = /[.,;:!?»”’…]$/u;

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    if (TRAILING.test(url)) {
      url = url.slice(0, -1);
      continue;
    }
    // A closing bracket belongs to the URL only when the URL opened one: "(see https://x.org/a_(b))".
    const last = url.at(-1) ?? "";
    const open = last === ")" ? "(" : last === "]" ? "[" : "";
    if (open && count(url, open) < count(url, last)) {
      url = url.slice(0, -1);
      continue;
    }
    return url;
  }
}

/** The URL as a link target, or null unless it is a well-formed http(s) URL. */
export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Split plain text into text and link segments. Only http(s) URLs become links; everything else,
 * markup included, stays text (the view renders segments as text nodes and <a> elements).
 */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let rest = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    if (!href || url.length <= "https://".length) continue;
    if (match.index > rest) segments.push({ text: text.slice(rest, match.index) });
    segments.push({ text: url, href });
    rest = match.index + url.length;
  }
  if (rest < text.length) segments.push({ text: text.slice(rest) });
  return segments;
}

const EXCERPT = 160;

/** The start of a text, cut at a word, for the list (the whole text is on the detail page). */
export function excerpt(text: string, limit = EXCERPT): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= limit) return flat;
  const cut = flat.slice(0, limit);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?]+$/, "")}…`;
}

/** Expired: past its `expiresAt` (an unreadable expiry counts as none). */
export function isExpired(item: Announcement, now: number): boolean {
  const until = item.expiresAt ? instant(item.expiresAt) : 0;
  return until > 0 && until <= now;
}

export interface AudienceContext {
  /** How this attendee takes part, or null when they have not said (they see both). */
  participation: "onsite" | "online" | null;
  /** Bookmarked session ids. */
  bookmarks: ReadonlySet<string>;
}

/** Whether an announcement is for this attendee; an audience this app does not know is for everyone. */
export function isForAttendee(item: Announcement, context: AudienceContext): boolean {
  switch (item.audience) {
    case "onsite":
      return context.participation !== "online";
    case "online":
      return context.participation !== "onsite";
    case "session":
      return typeof item.sessionId === "string" && context.bookmarks.has(item.sessionId);
    default:
      return true;
  }
}

/** What the Announcements page lists: for this attendee, not expired, urgent pinned, newest first. */
export function visibleAnnouncements(items: readonly Announcement[], context: AudienceContext, now: number): Announcement[] {
  return orderAnnouncements(items.filter((item) => isForAttendee(item, context) && !isExpired(item, now)));
}

export function countUnread(items: readonly Announcement[], isRead: (id: string) => boolean): number {
  return items.reduce((count, item) => count + (isRead(item.id) ? 0 : 1), 0);
}

/** A programme cursor "EPOCH.SEQ" (`sync/cursor.py`); null when unreadable. */
function parseCursor(cursor: string | null | undefined): { epoch: string; seq: number } | null {
  const match = /^([0-9a-z]+)\.(\d+)$/i.exec(cursor ?? "");
  return match ? { epoch: match[1]!, seq: Number(match[2]) } : null;
}

/** The stored programme (at `stored`) does not yet include what happened at `target`. */
export function isBehind(stored: string | null | undefined, target: string): boolean {
  const a = parseCursor(stored);
  const b = parseCursor(target);
  if (!a || !b || a.epoch !== b.epoch) return stored !== target;
  return a.seq < b.seq;
}

/** An announcement (or its retraction, `null`) as a live event brought it, at the event's cursor. */
export interface LiveEntry {
  cursor: string;
  announcement: Announcement | null;
}

/**
 * The stored announcements with live events applied that the stored programme has not caught up
 * with yet; once its cursor reaches an event's, the stored copy is the truth (no duplicates).
 */
export function mergeLive(
  stored: readonly Announcement[],
  storedCursor: string | null | undefined,
  live: ReadonlyMap<string, LiveEntry>,
): Announcement[] {
  const byId = new Map(stored.map((item) => [item.id, item]));
  for (const [id, entry] of live) {
    if (!isBehind(storedCursor, entry.cursor)) continue;
    if (entry.announcement) byId.set(id, entry.announcement);
    else byId.delete(id);
  }
  return [...byId.values()];
}

/** An announcement as a live event or push carries it, or null when it is not one. */
export function asAnnouncement(value: unknown): Announcement | null {
  if (!value || typeof value !== "object") return null;
  const item = value as Record<string, unknown>;
  if (typeof item["id"] !== "string" || !item["id"] || typeof item["title"] !== "string") return null;
  return item as unknown as Announcement;
}

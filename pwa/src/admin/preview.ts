/**
 * What an announcement looks like as a push notification on a phone's lock screen, computed the
 * way the server and the attendee app's service worker compute it: the server cuts the body so the
 * payload fits one push message (`server/push/payloads.py` `fit`), then the worker keeps at most
 * 140 characters of title and 1000 of body (`src/sw/push-payload.ts`). The lock screen then shows
 * the title and the body on one line each, ellipsised, and up to nine lines when expanded.
 */

import { planNotification } from "../sw/push-payload";

/** RFC 8291: a 4096-byte record less header, tag and padding delimiter (`server/push/crypto.py`). */
export const MAX_PLAINTEXT = 3993;
/** Lines of body an expanded notification shows (Android's big-text style without actions). */
export const EXPANDED_LINES = 9;

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/** The body as the server sends it: cut (and ended with "…") when the payload would not fit a push. */
export function fitBody(payload: { type: string; id: string; title: string; body: string; priority: string; url: string }): { body: string; truncated: boolean } {
  const size = bytes(JSON.stringify(payload));
  if (size <= MAX_PLAINTEXT) return { body: payload.body, truncated: false };
  const overflow = size - MAX_PLAINTEXT + bytes(JSON.stringify({ truncated: true })) + 8;
  const encoded = encoder.encode(payload.body);
  const cut = new TextDecoder("utf-8", { fatal: false }).decode(encoded.slice(0, Math.max(0, encoded.length - overflow)));
  // A character cut in half decodes as U+FFFD: drop it, as the server's errors="ignore" does.
  return { body: `${cut.replace(/\uFFFD+$/, "").trimEnd()}…`, truncated: true };
}

/** Newlines and runs of spaces as one space: how a one-line notification row shows text. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export interface NotificationPreview {
  /** The notification's title (one line on screen, ellipsised by the layout). */
  title: string;
  /** The body collapsed to one line. */
  line: string;
  /** The body as the expanded notification holds it (newlines kept). */
  body: string;
  /** The body was shortened before it reached the phone. */
  cut: boolean;
  /** It stays on screen until dismissed (urgent). */
  sticky: boolean;
}

/** The notification a phone would show for an announcement with this title, body and priority. */
export function notificationPreview(title: string, body: string, priority: "normal" | "urgent"): NotificationPreview {
  const payload = { type: "announcement", id: "ann-preview-000", title, body, priority, url: "/announcements/ann-preview-000" };
  const fitted = fitBody(payload);
  const plan = planNotification({ ...payload, body: fitted.body, truncated: fitted.truncated });
  const cut = fitted.truncated || body.trim().length > plan.body.replace(/…$/, "").length;
  return { title: oneLine(plan.title), line: oneLine(plan.body), body: plan.body, cut, sticky: plan.requireInteraction };
}

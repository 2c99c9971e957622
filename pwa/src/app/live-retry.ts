/**
 * When the app opens the live stream again after it failed: exponential backoff, and never sooner
 * than the server's Retry-After when it refused the stream (429 from one address, 503 when full).
 */

import { backoffDelay, type Fetch } from "../shared/http";

export const LIVE_URL = "/api/live";
/** The app's own retries: exponential from 3 s to 2 minutes. */
const BACKOFF = { baseMs: 3_000, maxMs: 120_000 };
/** Longest wait a Retry-After may ask for; a stranger value is held to it. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Seconds of a Retry-After header (a number of seconds or an HTTP date) in milliseconds; null when absent. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isNaN(ms) ? null : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(ms)));
}

/**
 * How long to wait before opening the stream again after failure number `failures` (0 for the first):
 * the backoff, and never less than the server's Retry-After, spread over up to a quarter more so a
 * whole venue refused at once does not come back in step.
 */
export function liveRetryDelay(failures: number, retryAfter: number | null, random: () => number = Math.random): number {
  const backoff = backoffDelay(failures, { ...BACKOFF, random });
  if (retryAfter === null) return backoff;
  return Math.max(backoff, Math.round(retryAfter * (1 + random() / 4)));
}

/**
 * Why the stream failed to open: the status and Retry-After of one plain request to it. A stream that
 * opens after all is closed again at once (the caller reopens it as EventSource).
 */
export async function probeLive(fetchLive: Fetch = fetch): Promise<{ status: number; retryAfter: number | null } | null> {
  const controller = new AbortController();
  try {
    const response = await fetchLive(LIVE_URL, { headers: { Accept: "text/event-stream" }, signal: controller.signal });
    return { status: response.status, retryAfter: retryAfterMs(response.headers.get("Retry-After")) };
  } catch {
    return null;
  } finally {
    controller.abort();
  }
}

/**
 * The programme sync client: download the snapshot once, then follow the change feed.
 *
 * A 410 (the server no longer has the changes after our cursor) or a cursor the server cannot read
 * means a clean refetch of `/api/programme`.
 */

import { dropPartialProgramme, getCursor, getPartialProgramme, putChanges, putPartialProgramme, putProgramme, type PartialProgramme } from "./db";
import { normaliseProgramme } from "./feed";
import { HttpError, getJson, getResumable, gunzipJson, type Fetch } from "./http";
import type { ChangesPage, Programme } from "./types";

export const PROGRAMME_URL = "/api/programme";
/** The current programme's immutable gzip bytes (a redirect to its cursor's address), resumable with Range. */
export const PROGRAMME_BYTES_URL = "/api/programme/at/current";
/** Today's part of the current programme (`Content-Location` names `/api/programme/at/{cursor}/day/{day}`; 404 outside the event). */
export const TODAY_BYTES_URL = "/api/programme/at/current/today";
export const CHANGES_URL = "/api/changes";
/** Stalls today's part survives before the app gives up on it and downloads only the whole. */
const PART_RESUMES = 2;
/** Pages of the feed followed in one run before giving the screen a chance to update. */
const MAX_PAGES = 50;

export type SyncOutcome = "snapshot" | "changes" | "current";

export interface SyncOptions {
  fetch?: Fetch;
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  /**
   * A cursor the feed is known to have reached (a live poke's): whichever server answers reads
   * the database first if it has not seen that far yet, so the answer includes the poked change.
   */
  atLeast?: string;
  /** Progress of a whole-programme download: bytes received and the whole size when known. */
  onProgress?: (received: number, total: number | null) => void;
  /**
   * On a first visit, fetch today's part of the programme before the whole and hand it here to be shown
   * (it is kept in IndexedDB apart from the snapshot until the whole arrives).
   */
  onPart?: (part: PartialProgramme) => void;
}

export function changesUrl(since: string, atLeast?: string): string {
  const url = `${CHANGES_URL}?since=${encodeURIComponent(since)}`;
  return atLeast ? `${url}&atLeast=${encodeURIComponent(atLeast)}` : url;
}

/**
 * Download the whole programme and store it in place of what the device had. The download gives up
 * only when it stalls, and resumes where it stopped (see `getResumable`).
 */
export async function fetchSnapshot(options: SyncOptions = {}): Promise<Programme> {
  const download = await getResumable(PROGRAMME_BYTES_URL, {
    fetch: options.fetch,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const snapshot = normaliseProgramme(await gunzipJson<Programme>(download.bytes));
  await putProgramme(snapshot, (options.now ?? Date.now)());
  return snapshot;
}

/** Today's date (YYYY-MM-DD) in `zone`. */
function dayIn(zone: string | undefined, now: number): string | null {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    return null;
  }
}

/**
 * Today's part of the programme: the one kept from an earlier visit when it is still today's, else downloaded and
 * kept. Null when there is none to show (not an event day: 404; the part failed or stalled): the whole follows
 * either way.
 */
export async function fetchTodayPart(options: SyncOptions = {}): Promise<PartialProgramme | null> {
  const now = (options.now ?? Date.now)();
  const kept = await getPartialProgramme();
  if (kept && kept.day !== null && kept.day === dayIn(kept.programme.event?.timeZone, now)) return kept;
  try {
    const download = await getResumable(TODAY_BYTES_URL, { fetch: options.fetch, signal: options.signal, maxResumes: PART_RESUMES });
    const programme = normaliseProgramme(await gunzipJson<Programme>(download.bytes));
    const named = download.contentLocation ?? download.url;
    const part = { programme, day: /\/day\/(\d{4}-\d{2}-\d{2})$/.exec(named)?.[1] ?? null };
    return (await putPartialProgramme(part)) ? part : null;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // Not an event day: a part kept from an earlier day is not today's programme either.
    if (kept && error instanceof HttpError && error.status === 404) await dropPartialProgramme();
    return null;
  }
}

/**
 * Bring the stored programme up to date.
 *
 * @returns "snapshot" when the whole programme was (re)downloaded, "changes" when changes were
 *   applied, "current" when nothing had changed.
 * @throws HttpError, TimeoutError or a network error; the caller retries with backoff.
 */
export async function syncProgramme(options: SyncOptions = {}): Promise<SyncOutcome> {
  const now = options.now ?? Date.now;
  let since = await getCursor();
  if (since === null) {
    if (options.onPart) {
      const part = await fetchTodayPart(options);
      if (part) options.onPart(part);
    }
    await fetchSnapshot(options);
    return "snapshot";
  }
  let changed = false;
  for (let page = 0; page < MAX_PAGES; page++) {
    let result: ChangesPage;
    try {
      result = await getJson<ChangesPage>(changesUrl(since, options.atLeast), options);
    } catch (error) {
      if (error instanceof HttpError && (error.status === 410 || error.status === 400)) {
        await fetchSnapshot(options);
        return "snapshot";
      }
      throw error;
    }
    const applied = await putChanges(since, result.changes, result.cursor, now());
    if (!applied) {
      // Another tab or the service worker moved on meanwhile: continue from where it is.
      const current = await getCursor();
      if (current === null) return syncProgramme(options);
      since = current;
      changed = true;
      continue;
    }
    changed ||= result.changes.length > 0;
    since = result.cursor;
    if (!result.more) break;
  }
  return changed ? "changes" : "current";
}

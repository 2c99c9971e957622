/**
 * The programme sync client: download the snapshot once, then follow the change feed.
 *
 * A 410 (the server no longer has the changes after our cursor) or a cursor the server cannot read
 * means a clean refetch of `/api/programme`.
 */

import { getCursor, putChanges, putProgramme } from "./db";
import { normaliseProgramme } from "./feed";
import { HttpError, getJson, getResumable, gunzipJson, type Fetch } from "./http";
import type { ChangesPage, Programme } from "./types";

export const PROGRAMME_URL = "/api/programme";
/** The current programme's immutable gzip bytes (a redirect to its cursor's address), resumable with Range. */
export const PROGRAMME_BYTES_URL = "/api/programme/at/current";
export const CHANGES_URL = "/api/changes";
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

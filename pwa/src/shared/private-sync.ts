/**
 * The private sync round trip (`POST /api/me/sync`, sync/PROTOCOL.md section 2), on stored
 * documents only: Yjs is used on binary updates (merge, diff, state vectors), never on live
 * documents, so the page and the service worker run the same code.
 *
 * Sends every document changed here since the server last acknowledged it (the diff against the
 * server's known state vector), merges what comes back into the stored state in one transaction
 * with the new cursor, and refuses nothing the user wrote: a note the server refuses (413) stays
 * on the device, marked, and the other documents still sync. When the server says `resend` (its
 * database was restored from a backup), every document is sent again whole in the same run; when it
 * says `more` (an answer carries at most about 1 MB), the run asks again until it has everything.
 */

import { Doc, applyUpdate, diffUpdate, encodeStateVectorFromUpdate, mergeUpdates } from "yjs";

import { db, type DocRecord } from "./db";
import type { Fetch } from "./http";
import { ApiError, IdentityLostError, MAX_NOTE_TEXT_BYTES, apiRequest, ensureIdentity, fromBase64, toBase64 } from "./private-api";
import { getIdentity, getPrivate, needsSync, setPrivate } from "./private-store";

/** At most this many follow-up round trips for answers that say `more` (5 MB of documents take about 5). */
const MORE_ROUNDS = 50;
/** Requests stay well under the body limit: base64 grows bytes by a third. */
const BATCH_BYTES = 600 * 1024;
const LOCK = "kumpul-private-sync";

export interface WireDoc {
  id: string;
  stateVector: string;
  update: string;
}

export interface SyncRequestBody {
  cursor: string | null;
  docs: WireDoc[];
}

export interface SyncResponseBody {
  cursor: string;
  docs: { id: string; update: string }[];
  /** The server's copy does not continue this device's history (a restore): send every document whole. */
  resend?: boolean;
  /** More changed documents than one answer carries: sync again at once with the new cursor. */
  more?: boolean;
}

export interface PrivateSyncOptions {
  fetch?: Fetch;
  timeoutMs?: number;
  /** Called with the ids of the documents about to be sent. */
  onSending?: (ids: string[]) => void;
}

export interface PrivateSyncResult {
  /** No attendee yet and none wanted: nothing was asked of the server. */
  skipped: boolean;
  /** Documents whose stored state changed (updates from the server). */
  received: string[];
  /** Documents the server acknowledged. */
  sent: string[];
  /** Documents the server refused (413), with its reason. */
  refused: { id: string; reason: string }[];
}

interface Outgoing {
  record: DocRecord;
  wire: WireDoc;
}

function outgoing(record: DocRecord): Outgoing {
  const update = record.syncedVector ? diffUpdate(record.state, record.syncedVector) : record.state;
  return {
    record,
    wire: { id: record.id, stateVector: toBase64(encodeStateVectorFromUpdate(record.state)), update: toBase64(update) },
  };
}

/** Split the documents to send into requests that stay under the body limit. */
function batches(items: Outgoing[]): Outgoing[][] {
  const result: Outgoing[][] = [[]];
  let size = 0;
  for (const item of items) {
    const itemSize = item.wire.update.length + item.wire.stateVector.length + 100;
    if (size + itemSize > BATCH_BYTES && result[result.length - 1]!.length > 0) {
      result.push([]);
      size = 0;
    }
    result[result.length - 1]!.push(item);
    size += itemSize;
  }
  return result;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a note's title and body in a stored state (what the server's limit measures). */
export function noteTextBytesOf(state: Uint8Array): number {
  const doc = new Doc();
  applyUpdate(doc, state);
  const bytes = encoder.encode(doc.getText("title").toString()).length + encoder.encode(doc.getText("body").toString()).length;
  doc.destroy();
  return bytes;
}

/**
 * Merge this device's pending changes (`docUpdates`) into their documents, in one transaction:
 * each document changed counts as one local revision, and a note written asks for an attendee to
 * sync it to. Returns the ids of the documents changed.
 */
export async function foldPendingUpdates(): Promise<string[]> {
  const database = await db();
  const tx = database.transaction(["docs", "docUpdates", "private"], "readwrite");
  const pending = tx.objectStore("docUpdates");
  const byDoc = new Map<string, Uint8Array[]>();
  const keys: number[] = [];
  let cursor = await pending.openCursor();
  while (cursor) {
    keys.push(cursor.key);
    byDoc.set(cursor.value.id, [...(byDoc.get(cursor.value.id) ?? []), cursor.value.update]);
    cursor = await cursor.continue();
  }
  const docs = tx.objectStore("docs");
  for (const [id, updates] of byDoc) {
    const stored = await docs.get(id);
    const state = mergeUpdates(stored ? [stored.state, ...updates] : updates);
    await docs.put({
      id,
      state,
      rev: (stored?.rev ?? 0) + 1,
      syncedRev: stored?.syncedRev ?? 0,
      syncedVector: stored?.syncedVector ?? null,
      textBytes: id === "profile" ? 0 : noteTextBytesOf(state),
      refused: stored?.refused ?? null,
      updatedAt: Date.now(),
    });
  }
  for (const key of keys) await pending.delete(key);
  if ([...byDoc.keys()].some((id) => id !== "profile")) await tx.objectStore("private").put(true, "wantIdentity");
  await tx.done;
  return [...byDoc.keys()];
}

/** Serialise sync runs across the page's tabs and the service worker where the browser can. */
async function exclusively<T>(run: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return run();
  return locks.request(LOCK, run) as Promise<T>;
}

/** Mark documents refused at their current revision, so they are not sent again until they change. */
async function refuse(records: DocRecord[], reason: string): Promise<void> {
  const database = await db();
  const tx = database.transaction("docs", "readwrite");
  for (const sent of records) {
    const stored = await tx.store.get(sent.id);
    if (stored) await tx.store.put({ ...stored, refused: { rev: stored.rev, reason } });
  }
  await tx.done;
}

/** Store the server's answer: merged states, what it now holds, and the cursor, in one transaction. */
async function store(sent: Outgoing[], response: SyncResponseBody): Promise<string[]> {
  const database = await db();
  const tx = database.transaction(["docs", "private"], "readwrite");
  const docs = tx.objectStore("docs");
  const replies = new Map(response.docs.map((doc) => [doc.id, fromBase64(doc.update)]));
  const received: string[] = [];
  for (const { record: sentRecord } of sent) {
    const stored = await docs.get(sentRecord.id);
    const reply = replies.get(sentRecord.id);
    replies.delete(sentRecord.id);
    if (!stored) continue; // erased on this device meanwhile
    const base = stored;
    const serverHas = reply ? mergeUpdates([sentRecord.state, reply]) : sentRecord.state;
    if (reply) received.push(sentRecord.id);
    await docs.put({
      ...base,
      state: reply ? mergeUpdates([base.state, reply]) : base.state,
      syncedRev: Math.max(base.syncedRev, sentRecord.rev),
      syncedVector: encodeStateVectorFromUpdate(serverHas),
      refused: null,
      updatedAt: reply ? Date.now() : base.updatedAt,
    });
  }
  for (const [id, update] of replies) {
    // Changed elsewhere (another device): the server sends its whole state.
    const stored = await docs.get(id);
    const state = stored ? mergeUpdates([stored.state, update]) : update;
    await docs.put({
      id,
      state,
      rev: stored?.rev ?? 0,
      syncedRev: stored?.syncedRev ?? 0,
      syncedVector: encodeStateVectorFromUpdate(update),
      textBytes: stored?.textBytes ?? 0,
      refused: stored?.refused ?? null,
      updatedAt: Date.now(),
    });
    received.push(id);
  }
  await tx.objectStore("private").put(response.cursor, "cursor");
  await tx.done;
  return received;
}

/**
 * Forget what the server was known to hold: every document counts as unsent, and is sent whole
 * (no synced state vector to diff against). A revision below the document's own makes it pending.
 */
async function markAllUnsent(): Promise<void> {
  const database = await db();
  const tx = database.transaction("docs", "readwrite");
  for (const record of await tx.store.getAll()) {
    await tx.store.put({ ...record, syncedRev: Math.min(record.syncedRev, record.rev - 1), syncedVector: null });
  }
  await tx.done;
}

/** The documents to send now; notes over the text limit are marked refused and left out. */
async function pendingDocs(result: PrivateSyncResult): Promise<Outgoing[]> {
  const records = await (await db()).getAll("docs");
  const pending: Outgoing[] = [];
  for (const record of records) {
    if (!needsSync(record)) continue;
    if (record.id !== "profile" && record.textBytes > MAX_NOTE_TEXT_BYTES) {
      const reason = `note over ${MAX_NOTE_TEXT_BYTES / 1024} KB`;
      if (record.refused?.rev !== record.rev) await refuse([record], reason);
      if (!result.refused.some((item) => item.id === record.id)) result.refused.push({ id: record.id, reason });
      continue;
    }
    pending.push(outgoing(record));
  }
  return pending;
}

/** The reason inside a 413 that names one document, if it does. */
function refusedDoc(error: ApiError, batch: Outgoing[]): Outgoing | undefined {
  return batch.find((item) => error.detail.includes(item.record.id));
}

/**
 * One private sync: send what changed here, take what changed elsewhere.
 *
 * @throws IdentityLostError on 401 (the attendee was erased); ApiError for other refusals
 *   (429 with `retryAfterMs`); network and timeout errors as they come.
 */
export async function syncPrivateDocs(options: PrivateSyncOptions = {}): Promise<PrivateSyncResult> {
  return exclusively(async () => {
    const result: PrivateSyncResult = { skipped: false, received: [], sent: [], refused: [] };
    // Changes saved as a page went away are merged first (and may ask for an attendee).
    await foldPendingUpdates();
    if (await getPrivate("identityLost")) throw new IdentityLostError();
    let identity = await getIdentity();
    if (!identity) {
      if (!(await getPrivate("wantIdentity"))) return { ...result, skipped: true };
      identity = await ensureIdentity(options);
    }
    const queue = batches(await pendingDocs(result));
    let attempts = 0;
    let resent = false;
    let followUps = 0;
    while (queue.length > 0) {
      const batch = queue.shift()!;
      attempts += 1;
      const body: SyncRequestBody = { cursor: (await getPrivate("cursor")) ?? null, docs: batch.map((item) => item.wire) };
      options.onSending?.(body.docs.map((doc) => doc.id));
      let response: SyncResponseBody;
      try {
        response = await apiRequest<SyncResponseBody>("POST", "/api/me/sync", {
          ...options,
          token: identity.token,
          body,
        });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          await setPrivate("identityLost", true);
          throw new IdentityLostError();
        }
        if (error instanceof ApiError && error.status === 413 && batch.length > 0 && attempts < 50) {
          // Keep every word on the device; send the rest without what the server refuses.
          const named = refusedDoc(error, batch);
          const refused = named ? [named] : batch.length === 1 ? batch : [];
          if (refused.length === 0) {
            // Not one document: split the batch and try the halves.
            const half = Math.ceil(batch.length / 2);
            queue.unshift(batch.slice(0, half), batch.slice(half));
            continue;
          }
          await refuse(
            refused.map((item) => item.record),
            error.detail,
          );
          result.refused.push(...refused.map((item) => ({ id: item.record.id, reason: error.detail })));
          const rest = batch.filter((item) => !refused.includes(item));
          if (rest.length > 0) queue.unshift(rest);
          continue;
        }
        throw error;
      }
      result.sent.push(...batch.map((item) => item.record.id));
      result.received.push(...(await store(batch, response)));
      if (response.resend && !resent) {
        // The server was restored: it may lack what this device synced before, so send everything, once.
        resent = true;
        await markAllUnsent();
        queue.length = 0;
        queue.push(...batches(await pendingDocs(result)));
      }
      if (response.more && queue.length === 0 && followUps < MORE_ROUNDS) {
        followUps += 1;
        queue.push([]);
      }
    }
    return result;
  });
}

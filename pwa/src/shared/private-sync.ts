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
 *
 * Notes (and the private agenda) are end-to-end encrypted: they travel as `logs`, each change an
 * encrypted Yjs diff appended to the document's log on the server, and what other devices appended
 * comes back as entries this device decrypts and merges. When a log has grown, this device
 * replaces its prefix with one encrypted snapshot. Only `profile` stays plaintext, in `docs`.
 */

import { Doc, applyUpdate, diffUpdate, encodeStateVectorFromUpdate, mergeUpdates } from "yjs";

import { db, type DocRecord } from "./db";
import type { Fetch } from "./http";
import { ApiError, IdentityLostError, MAX_NOTE_TEXT_BYTES, apiRequest, ensureIdentity, fromBase64, toBase64 } from "./private-api";
import { getIdentity, getPrivate, needsSync, setPrivate } from "./private-store";
import { acceptKey, createFirstKey, deviceRegistration, loadVault, registerDevice, rememberDeviceId, type KeyAnswer, type Vault } from "./vault";
import { FrameError, openFrame, sealFrame, vaultAad, type FrameKind } from "./vault-crypto";

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

/** One encrypted document's log in a request: what this device has, and what it appends. */
export interface WireLog {
  id: string;
  since: number;
  append?: string[];
  snapshot?: { upTo: number; frame: string };
}

export interface WireLogAnswer {
  id: string;
  version: number;
  entries: { version: number; kind: FrameKind; frame: string }[];
}

export interface SyncRequestBody {
  cursor: string | null;
  docs: WireDoc[];
  /** The newest notebook key this device holds (0: none). */
  keyId?: number;
  logs?: WireLog[];
}

export interface SyncResponseBody {
  cursor: string;
  docs: { id: string; update: string }[];
  /** The server's copy does not continue this device's history (a restore): send every document whole. */
  resend?: boolean;
  /** More changed documents than one answer carries: sync again at once with the new cursor. */
  more?: boolean;
  /** The attendee's current notebook key id (0: none yet). */
  keyId?: number;
  logs?: WireLogAnswer[];
  /** The current key for this device, when the request named an older one. */
  key?: KeyAnswer | null;
}

/** A log grown past this many entries since its snapshot is compacted. */
export const COMPACT_ENTRIES = 32;

/** Documents that are encrypted: every note, and the agenda when the attendee keeps it from the server. */
export function isEncryptedDoc(id: string): boolean {
  return id.startsWith("note:") || id === "agenda";
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
  /** Plaintext documents (the profile). */
  wire?: WireDoc;
  /** Encrypted documents: the diff to append (null: nothing, only asking), sealed at send time. */
  diff?: Uint8Array | null;
  /** Bytes of the encrypted frames this request appends to the log (and the snapshot). */
  appended?: number;
  compacted?: boolean;
  /** The server refused the log as too big: send a snapshot in place of its prefix this time. */
  compact?: boolean;
}

function outgoing(record: DocRecord): Outgoing {
  const update = record.syncedVector ? diffUpdate(record.state, record.syncedVector) : record.state;
  if (isEncryptedDoc(record.id)) return { record, diff: update };
  return {
    record,
    wire: { id: record.id, stateVector: toBase64(encodeStateVectorFromUpdate(record.state)), update: toBase64(update) },
  };
}

/** An empty Yjs update (nothing to append). */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.length <= 2 && update.every((byte) => byte === 0);
}

/**
 * The log of one encrypted document in a request: its diff sealed under the current key, and a
 * snapshot of the whole state in place of the log's prefix when the log has grown.
 */
async function sealLog(item: Outgoing, vault: Vault): Promise<WireLog> {
  const { record } = item;
  const since = record.since ?? 0;
  const key = vault.keys.get(vault.keyId)!;
  const log: WireLog = { id: record.id, since };
  item.appended = 0;
  item.compacted = false;
  if (item.diff && !isEmptyUpdate(item.diff)) {
    const frame = await sealFrame(key, vault.keyId, vaultAad(record.id, "update"), item.diff);
    log.append = [toBase64(frame)];
    item.appended = frame.length;
  }
  const entries = record.logEntries ?? 0;
  const bytes = record.logBytes ?? 0;
  if (since >= 1 && (item.compact || entries >= COMPACT_ENTRIES || bytes > 2 * record.state.length + 1024)) {
    const frame = await sealFrame(key, vault.keyId, vaultAad(record.id, "snapshot"), record.state);
    log.snapshot = { upTo: since, frame: toBase64(frame) };
    item.compacted = true;
    item.appended += frame.length;
  }
  return log;
}
/** Split the documents to send into requests that stay under the body limit. */
function batches(items: Outgoing[]): Outgoing[][] {
  const result: Outgoing[][] = [[]];
  let size = 0;
  for (const item of items) {
    const itemSize = item.wire ? item.wire.update.length + item.wire.stateVector.length + 100 : Math.ceil(((item.diff?.length ?? 0) * 4) / 3) + 200;
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
      ...stored,
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

/** A log's entries from an answer, decrypted. */
interface OpenedLog {
  version: number;
  updates: Uint8Array[];
  /** Some entry did not decrypt (a key this device lacks, or a changed frame): not applied. */
  unreadable: boolean;
  /** Entries and encrypted bytes seen, and whether a snapshot came (the counts then start from it). */
  entries: number;
  bytes: number;
  snapshot: boolean;
}

/** Decrypt every entry of the answer's logs (before the transaction: IndexedDB does not wait for WebCrypto). */
async function openLogs(answer: WireLogAnswer[] | undefined, vault: Vault | null): Promise<Map<string, OpenedLog>> {
  const opened = new Map<string, OpenedLog>();
  for (const log of answer ?? []) {
    const result: OpenedLog = { version: log.version, updates: [], unreadable: false, entries: 0, bytes: 0, snapshot: false };
    for (const entry of log.entries) {
      const frame = fromBase64(entry.frame);
      if (entry.kind === "snapshot") {
        result.snapshot = true;
        result.entries = 0;
        result.bytes = 0;
      } else result.entries += 1;
      result.bytes += frame.length;
      if (!vault) {
        result.unreadable = true;
        continue;
      }
      try {
        result.updates.push(await openFrame(vault.keys, vaultAad(log.id, entry.kind), frame));
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        console.warn(`Kumpul could not decrypt an entry of ${log.id}:`, error.message);
        result.unreadable = true;
      }
    }
    opened.set(log.id, result);
  }
  return opened;
}

/** The log counters after an answer: entries and bytes since the last snapshot, as this device knows them. */
function logCounts(record: DocRecord, item: Outgoing | null, opened: OpenedLog | undefined): Pick<DocRecord, "logEntries" | "logBytes"> {
  let entries = record.logEntries ?? 0;
  let bytes = record.logBytes ?? 0;
  if (item?.compacted) {
    entries = 0;
    bytes = 0;
  }
  if (item?.appended) {
    entries += item.diff && !isEmptyUpdate(item.diff) ? 1 : 0;
    bytes += item.appended;
  }
  if (opened) {
    entries = opened.snapshot ? opened.entries : entries + opened.entries;
    bytes = opened.snapshot ? opened.bytes : bytes + opened.bytes;
  }
  return { logEntries: entries, logBytes: bytes };
}

/** Store the server's answer: merged states, what it now holds, and the cursor, in one transaction. */
async function store(sent: Outgoing[], response: SyncResponseBody, vault: Vault | null): Promise<string[]> {
  const logs = await openLogs(response.logs, vault);
  const database = await db();
  const tx = database.transaction(["docs", "private"], "readwrite");
  const docs = tx.objectStore("docs");
  const replies = new Map(response.docs.map((doc) => [doc.id, fromBase64(doc.update)]));
  const received: string[] = [];
  for (const item of sent) {
    const sentRecord = item.record;
    const stored = await docs.get(sentRecord.id);
    if (item.wire === undefined) {
      const opened = logs.get(sentRecord.id);
      logs.delete(sentRecord.id);
      if (!stored) continue;
      const updates = opened?.updates ?? [];
      if (updates.length > 0) received.push(sentRecord.id);
      await docs.put({
        ...stored,
        state: updates.length > 0 ? mergeUpdates([stored.state, ...updates]) : stored.state,
        syncedRev: Math.max(stored.syncedRev, sentRecord.rev),
        syncedVector: encodeStateVectorFromUpdate(mergeUpdates([sentRecord.state, ...updates])),
        refused: null,
        updatedAt: updates.length > 0 ? Date.now() : stored.updatedAt,
        since: opened && !opened.unreadable ? opened.version : (stored.since ?? 0),
        unreadable: opened?.unreadable ?? false,
        ...logCounts(stored, item, opened),
      });
      continue;
    }
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
    if (isEncryptedDoc(id)) {
      // A plaintext note from before encryption (read only on the server): merged here, and sent
      // back into its encrypted log, which makes the server delete the plaintext.
      await docs.put({
        id,
        state,
        rev: (stored?.rev ?? 0) + 1,
        syncedRev: stored?.syncedRev ?? 0,
        syncedVector: null,
        textBytes: noteTextBytesOf(state),
        refused: stored?.refused ?? null,
        updatedAt: Date.now(),
        since: stored?.since ?? 0,
        logEntries: stored?.logEntries ?? 0,
        logBytes: stored?.logBytes ?? 0,
      });
      received.push(id);
      continue;
    }
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
  for (const [id, opened] of logs) {
    // Appended by another device: merged into what this device has.
    const stored = await docs.get(id);
    if (opened.updates.length === 0 && stored && !opened.unreadable) {
      await docs.put({ ...stored, since: Math.max(stored.since ?? 0, opened.version), ...logCounts(stored, null, opened) });
      continue;
    }
    const state = mergeUpdates([...(stored ? [stored.state] : []), ...opened.updates]);
    const pending = stored ? needsSync(stored) : false;
    await docs.put({
      id,
      state,
      rev: stored?.rev ?? 0,
      syncedRev: stored?.syncedRev ?? 0,
      // With nothing of its own waiting, this device now has exactly what the server holds.
      syncedVector: pending ? (stored?.syncedVector ?? null) : encodeStateVectorFromUpdate(state),
      textBytes: id.startsWith("note:") ? noteTextBytesOf(state) : 0,
      refused: stored?.refused ?? null,
      updatedAt: opened.updates.length > 0 ? Date.now() : (stored?.updatedAt ?? Date.now()),
      since: opened.unreadable ? (stored?.since ?? 0) : Math.max(stored?.since ?? 0, opened.version),
      unreadable: opened.unreadable,
      ...(stored ? logCounts(stored, null, opened) : { logEntries: opened.entries, logBytes: opened.bytes }),
    });
    if (opened.updates.length > 0) received.push(id);
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
    await tx.store.put({ ...record, syncedRev: Math.min(record.syncedRev, record.rev - 1), syncedVector: null, since: 0, logEntries: 0, logBytes: 0 });
  }
  await tx.done;
}

/** Every encrypted document is sent whole into its log (the first key was just made). */
async function markEncryptedUnsent(): Promise<void> {
  const database = await db();
  const tx = database.transaction("docs", "readwrite");
  for (const record of await tx.store.getAll()) {
    if (!isEncryptedDoc(record.id)) continue;
    await tx.store.put({ ...record, syncedRev: Math.min(record.syncedRev, record.rev - 1), syncedVector: null, since: 0, logEntries: 0, logBytes: 0 });
  }
  await tx.done;
}

/**
 * The documents to send now; notes over the text limit are marked refused and left out, and so
 * are encrypted documents while this device holds no key (they stay here, untouched). Encrypted
 * documents with entries this device could not read yet are listed to ask for them again.
 */
async function pendingDocs(result: PrivateSyncResult, vault: Vault | null, skip: ReadonlySet<string> = new Set()): Promise<Outgoing[]> {
  const records = await (await db()).getAll("docs");
  const pending: Outgoing[] = [];
  for (const record of records) {
    if (skip.has(record.id)) continue;
    const encrypted = isEncryptedDoc(record.id);
    if (encrypted && !vault) continue;
    if (!needsSync(record)) {
      if (encrypted && record.unreadable) pending.push({ record, diff: null });
      continue;
    }
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

/** The server took none of the request: a frame under a key that is no longer current (409). */
function staleKey(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409;
}

/**
 * One private sync: send what changed here, take what changed elsewhere.
 *
 * Keys: a device without a key learns the attendee's key id from the first answer; when there is
 * none (an attendee from before encryption, or a new one) it makes key 1, and sends every note it
 * holds into its log (plaintext notes the server still has come back in `docs` and are sent too).
 * When there is one it cannot get (a device that predates encryption, or was revoked), its notes
 * stay on the device, unsent, until it is linked again. A 409 (the key changed meanwhile) fetches
 * the new key and sends again, re-encrypted.
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
      const created = await ensureIdentity({ ...options, device: deviceRegistration });
      await rememberDeviceId(created.deviceId);
      identity = { attendeeId: created.attendeeId, token: created.token };
    }
    let vault = await loadVault();
    if (vault) await registerDevice(identity, vault, options);
    // A link brought the current key only: name an older one once, and the answer carries the keyring.
    let askKeyring = vault !== null && vault.keyId > 1 && (await getPrivate("wantKeyring")) === true;
    const queue = batches(await pendingDocs(result, vault));
    let attempts = 0;
    let resent = false;
    let followUps = 0;
    let keyRounds = 0;
    const sentIds = new Set<string>();
    while (queue.length > 0) {
      const batch = queue.shift()!;
      attempts += 1;
      const logs: WireLog[] = [];
      for (const item of batch) if (item.wire === undefined && vault) logs.push(await sealLog(item, vault));
      const keyId = vault ? (askKeyring ? vault.keyId - 1 : vault.keyId) : 0;
      const body: SyncRequestBody = {
        cursor: (await getPrivate("cursor")) ?? null,
        docs: batch.flatMap((item) => (item.wire ? [item.wire] : [])),
        keyId,
        logs,
      };
      options.onSending?.(batch.map((item) => item.record.id));
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
        if (staleKey(error) && keyRounds < 3) {
          // Nothing was written: take the new key (an empty request names this device's key id) and send again.
          keyRounds += 1;
          const refresh = await apiRequest<SyncResponseBody>("POST", "/api/me/sync", {
            ...options,
            token: identity.token,
            body: { cursor: (await getPrivate("cursor")) ?? null, docs: [], keyId: vault?.keyId ?? 0, logs: [] },
          });
          if (refresh.key) vault = await acceptKey(refresh.key, vault);
          result.received.push(...(await store([], refresh, vault)));
          if (vault) queue.unshift(batch);
          else queue.unshift(batch.filter((item) => item.wire !== undefined));
          continue;
        }
        if (error instanceof ApiError && error.status === 413 && batch.length > 0 && attempts < 50) {
          // Keep every word on the device; send the rest without what the server refuses.
          const named = refusedDoc(error, batch);
          if (named && named.wire === undefined && !named.compact && (named.record.since ?? 0) >= 1) {
            // A log over its limit: a snapshot in place of its prefix makes it smaller, and is always taken.
            named.compact = true;
            queue.unshift(batch);
            continue;
          }
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
      if (response.key) {
        vault = await acceptKey(response.key, vault);
        if (askKeyring) {
          askKeyring = false;
          await setPrivate("wantKeyring", false);
        }
      }
      let startVault = false;
      if (!vault && !(await getPrivate("vaultLocked")) && response.keyId !== undefined) {
        if (response.keyId === 0) {
          // The first device with encrypted notes: make key 1; then every note goes into its log.
          vault = await createFirstKey(identity, options);
          startVault = vault !== null;
        } else await setPrivate("vaultLocked", true);
      }
      for (const item of batch) sentIds.add(item.record.id);
      result.sent.push(...batch.map((item) => item.record.id));
      result.received.push(...(await store(batch, response, vault)));
      if (startVault) {
        // Plaintext the server still holds of notes comes back whole with no cursor; every note
        // this device holds goes into its log whole.
        await setPrivate("cursor", null);
        await markEncryptedUnsent();
        queue.push([]);
        continue;
      }
      if (response.resend && !resent) {
        // The server was restored: it may lack what this device synced before, so send everything, once.
        resent = true;
        await markAllUnsent();
        queue.length = 0;
        queue.push(...batches(await pendingDocs(result, vault)));
      }
      if (queue.length === 0 && vault && followUps < MORE_ROUNDS) {
        // Notes that arrived as plaintext (from before encryption) go back into their logs.
        const more = (await pendingDocs(result, vault, sentIds)).filter((item) => item.wire === undefined && needsSync(item.record));
        if (more.length > 0) {
          followUps += 1;
          queue.push(...batches(more));
          continue;
        }
      }
      if (response.more && queue.length === 0 && followUps < MORE_ROUNDS) {
        followUps += 1;
        queue.push([]);
      }
    }
    return result;
  });
}

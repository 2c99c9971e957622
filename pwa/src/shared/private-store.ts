/**
 * The private side of the "kumpul" database, without Yjs: identity, sync cursor and flags, and
 * the stored documents. Used by the page and the service worker.
 */

import { db, type DocRecord, type PrivateMeta } from "./db";

export type Identity = PrivateMeta["identity"];

export async function getPrivate<K extends keyof PrivateMeta>(key: K): Promise<PrivateMeta[K] | undefined> {
  return (await (await db()).get("private", key)) as PrivateMeta[K] | undefined;
}

export async function setPrivate<K extends keyof PrivateMeta>(key: K, value: PrivateMeta[K]): Promise<void> {
  await (await db()).put("private", value, key);
}

export async function getIdentity(): Promise<Identity | null> {
  return (await getPrivate("identity")) ?? null;
}

/** Take on credentials (new, or another device's attendee): every local document is sent in full next. */
export async function adoptIdentity(identity: Identity): Promise<void> {
  const database = await db();
  const tx = database.transaction(["private", "docs"], "readwrite");
  const meta = tx.objectStore("private");
  const writes: Promise<unknown>[] = [meta.put(identity, "identity"), meta.put(null, "cursor"), meta.put(false, "identityLost")];
  let cursor = await tx.objectStore("docs").openCursor();
  while (cursor) {
    writes.push(cursor.update({ ...cursor.value, syncedRev: -1, syncedVector: null, refused: null }));
    cursor = await cursor.continue();
  }
  await Promise.all([...writes, tx.done]);
}

/** Forget everything private on this device: documents, identity, cursor. */
export async function clearPrivateData(): Promise<void> {
  const database = await db();
  const tx = database.transaction(["private", "docs", "docUpdates", "bookmarks"], "readwrite");
  const meta = tx.objectStore("private");
  await Promise.all([
    tx.objectStore("docs").clear(),
    tx.objectStore("docUpdates").clear(),
    tx.objectStore("bookmarks").clear(),
    meta.clear(),
    meta.put(true, "bookmarksMigrated"),
    tx.done,
  ]);
}

export async function getDocRecord(id: string): Promise<DocRecord | undefined> {
  return (await db()).get("docs", id);
}

export async function listDocRecords(): Promise<DocRecord[]> {
  return (await db()).getAll("docs");
}

/** A document needs sending: changed here since the server last acknowledged it, and not refused as it is. */
export function needsSync(record: DocRecord): boolean {
  return record.rev > record.syncedRev && record.refused?.rev !== record.rev;
}

/** Device-local bookmarks of the first app version, oldest first (moved into the profile document once). */
export async function legacyBookmarks(): Promise<string[]> {
  const all = await (await db()).getAll("bookmarks");
  return all.sort((a, b) => a.addedAt - b.addedAt).map((bookmark) => bookmark.sessionId);
}

export async function clearLegacyBookmarks(): Promise<void> {
  await (await db()).clear("bookmarks");
}

/** Drop credentials that stopped working; the next sync creates a new attendee and sends everything. */
export async function forgetIdentity(): Promise<void> {
  const database = await db();
  const tx = database.transaction("private", "readwrite");
  await Promise.all([tx.store.delete("identity"), tx.store.put(false, "identityLost"), tx.store.put(true, "wantIdentity"), tx.done]);
}

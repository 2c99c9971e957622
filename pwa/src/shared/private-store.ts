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

/**
 * Take on credentials (new, or another device's attendee): every local document is sent in full
 * next, into logs that start empty. The notebook keys of the identity left behind are dropped
 * (a link brings its own key); that identity is remembered, so erasing reaches it too.
 */
export async function adoptIdentity(identity: Identity): Promise<void> {
  const database = await db();
  const tx = database.transaction(["private", "docs"], "readwrite");
  const meta = tx.objectStore("private");
  const previous = (await meta.get("identity")) as Identity | undefined;
  const former = ((await meta.get("formerIdentities")) as PrivateMeta["formerIdentities"] | undefined) ?? [];
  const keys = ((await meta.get("vault")) as PrivateMeta["vault"] | undefined) ?? null;
  const device = (await meta.get("device")) as PrivateMeta["device"] | undefined;
  const writes: Promise<unknown>[] = [
    meta.put(identity, "identity"),
    meta.put(null, "cursor"),
    meta.put(false, "identityLost"),
    meta.put(null, "vault"),
    meta.put(false, "vaultLocked"),
    meta.put(false, "wantKeyring"),
  ];
  if (previous && previous.token !== identity.token && !former.some((each) => each.token === previous.token)) {
    writes.push(meta.put([...former, { attendeeId: previous.attendeeId, token: previous.token, vault: keys }], "formerIdentities"));
  }
  if (device) writes.push(meta.put({ ...device, id: null, proofKeyId: 0 }, "device"));
  let cursor = await tx.objectStore("docs").openCursor();
  while (cursor) {
    writes.push(cursor.update({ ...cursor.value, syncedRev: -1, syncedVector: null, refused: null, since: 0, logEntries: 0, logBytes: 0, unreadable: false }));
    cursor = await cursor.continue();
  }
  await Promise.all([...writes, tx.done]);
}

/** Every identity this device held: the current one last. */
export async function allIdentities(): Promise<Identity[]> {
  const [former, current] = await Promise.all([getPrivate("formerIdentities"), getIdentity()]);
  return [...(former ?? []).map(({ attendeeId, token }) => ({ attendeeId, token })), ...(current ? [current] : [])];
}

/** Forget everything private on this device: documents, identity, cursor, session feedback. */
export async function clearPrivateData(): Promise<void> {
  const database = await db();
  const tx = database.transaction(["private", "docs", "docUpdates", "bookmarks", "feedback"], "readwrite");
  const meta = tx.objectStore("private");
  await Promise.all([
    tx.objectStore("feedback").clear(),
    tx.objectStore("docs").clear(),
    tx.objectStore("docUpdates").clear(),
    tx.objectStore("bookmarks").clear(),
    meta.clear(),
    meta.put(true, "bookmarksMigrated"),
    tx.done,
  ]);
}

/** Drop this device's documents (not its identity): a link that does not take them along. */
export async function clearDocuments(): Promise<void> {
  const database = await db();
  const tx = database.transaction(["docs", "docUpdates"], "readwrite");
  await Promise.all([tx.objectStore("docs").clear(), tx.objectStore("docUpdates").clear(), tx.done]);
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

/**
 * Drop credentials that stopped working; the next sync creates a new attendee and sends everything
 * (encrypted under a new key: the keys of the identity that is gone go with it).
 */
export async function forgetIdentity(): Promise<void> {
  const database = await db();
  const tx = database.transaction(["private", "docs"], "readwrite");
  const meta = tx.objectStore("private");
  const device = (await meta.get("device")) as PrivateMeta["device"] | undefined;
  const writes: Promise<unknown>[] = [
    meta.delete("identity"),
    meta.put(false, "identityLost"),
    meta.put(true, "wantIdentity"),
    meta.put(null, "vault"),
    meta.put(false, "vaultLocked"),
    meta.put(null, "cursor"),
  ];
  if (device) writes.push(meta.put({ ...device, id: null, proofKeyId: 0 }, "device"));
  let cursor = await tx.objectStore("docs").openCursor();
  while (cursor) {
    writes.push(cursor.update({ ...cursor.value, syncedRev: -1, syncedVector: null, refused: null, since: 0, logEntries: 0, logBytes: 0, unreadable: false }));
    cursor = await cursor.continue();
  }
  await Promise.all([...writes, tx.done]);
}

/**
 * The app's IndexedDB database "kumpul": the programme as of a cursor, read marks, and the
 * attendee's private CRDT documents (notes, the profile with bookmarks) with what sync needs.
 *
 * Opened once, upgraded in one versioned function; everything else goes through the small verbs
 * below, used by the page and the service worker alike.
 */

import { openDB, type DBSchema, type IDBPDatabase } from "idb";

import { normaliseProgramme } from "./feed";
import {
  COLLECTIONS,
  type Announcement,
  type Change,
  type CollectionKind,
  type EventInfo,
  type Format,
  type Programme,
  type Room,
  type Session,
  type Speaker,
  type Track,
} from "./types";
import { isCollectionKind } from "./feed";

export const DB_NAME = "kumpul";
export const DB_VERSION = 3;

/**
 * One private CRDT document (`profile` or `note:<uuid>`) as stored on this device: its whole Yjs
 * state, and what the server is known to hold of it. Written by the page and the service worker,
 * always in one transaction that merges with what is stored, so neither can lose the other's work.
 */
export interface DocRecord {
  id: string;
  /** The whole document as one Yjs update. */
  state: Uint8Array;
  /** Counts this device's own changes; the document needs syncing while `rev > syncedRev`. */
  rev: number;
  /** The `rev` the server acknowledged last (-1: send everything, e.g. after linking). */
  syncedRev: number;
  /** The Yjs state vector the server is known to hold: diffs are computed against it. */
  syncedVector: Uint8Array | null;
  /** UTF-8 bytes of a note's title and body (the server's size limit measures this). */
  textBytes: number;
  /** The server refused this document at `rev` (413) for `reason`; retried once it changes. */
  refused: { rev: number; reason: string } | null;
  updatedAt: number;
  /** Encrypted documents (notes, the private agenda): the last log version this device has applied. */
  since?: number;
  /** Entries in the server's log since its last snapshot, as far as this device saw them. */
  logEntries?: number;
  /** Encrypted bytes of those entries and that snapshot. */
  logBytes?: number;
  /** Entries arrived that this device could not decrypt (a key it lacks): ask for them again. */
  unreadable?: boolean;
}

/** A document's whole state as this device changed it, waiting to be merged into its `DocRecord`. */
export interface PendingUpdate {
  id: string;
  update: Uint8Array;
}

/** Identity and sync state of the private documents (key-value). */
export interface PrivateMeta {
  identity: { attendeeId: string; token: string };
  /** The cursor of the last private sync response. */
  cursor: string | null;
  /** The server answered 401: the attendee was erased (maybe from another device). */
  identityLost: boolean;
  /** Something private was saved: an attendee should be created at the next chance. */
  wantIdentity: boolean;
  /** The device-local bookmarks of the first version moved into the profile document. */
  bookmarksMigrated: boolean;
  /** The secret calendar feed of my agenda, for the attendee it was made for (the server shows it once). */
  /** `lang`: the language the server was last told to write the feed in. */
  calendarFeed: (CalendarFeed & { attendeeId: string; lang?: string }) | null;
  /** The notebook keys this device holds (raw), by key id, and the current one. */
  vault: VaultKeys | null;
  /** The server has a notebook key this device does not hold: notes stay here until it is linked again. */
  vaultLocked: boolean;
  /** This device's key pair, name, and id at the server. */
  device: DeviceMeta | null;
  /** How many devices the attendee had at the last look (the warning about losing every device). */
  linkedDevices: number;
  /**
   * Every identity this device held before the current one (erasing erases them all), with the
   * notebook keys it had for it, so what was left there stays readable.
   */
  formerIdentities: { attendeeId: string; token: string; vault?: VaultKeys | null }[];
  /** Ask the server for the keyring at the next sync (after a link brought only the current key). */
  wantKeyring: boolean;
  /** The agenda was taken off the server: its calendar feed must go, retried at each sync until it has. */
  calendarFeedOff: boolean;
}

export interface VaultKeys {
  keyId: number;
  keys: Record<number, Uint8Array>;
}

export interface DeviceMeta {
  id: string | null;
  name: string;
  /** ECDH P-256, not extractable. */
  privateKey: CryptoKey;
  /** The public key, raw (65 bytes). */
  publicRaw: Uint8Array;
  /** The key id its registered proof was made with (0: none registered). */
  proofKeyId: number;
}

/** My agenda as a calendar feed: its http(s) address, and the same as `webcal:` for calendar apps. */
export interface CalendarFeed {
  url: string;
  webcalUrl: string;
}

/**
 * The attendee's feedback on one session as this device holds it: written offline, sent when the
 * connection returns (`pending` until the server took this very version).
 */
export interface FeedbackRecord {
  sessionId: string;
  /** 1 to 5. */
  rating: number;
  comment: string;
  /** When it was written here (ms since epoch); a send only marks the version it sent. */
  writtenAt: number;
  state: "pending" | "sent" | "refused";
  /** Why the server refused it (its `detail`). */
  refusal?: string;
}

export interface Bookmark {
  sessionId: string;
  addedAt: number;
}

/** What a session looked like when the attendee last looked at the changes: title, start, end, room, status. */
export type SeenSession = [title: string, start: string, end: string, roomId: string, status: string];

/** The programme as the attendee last saw it in "Changes": its cursor and each session's seen state. */
export interface ChangesSeen {
  cursor: string;
  sessions: Record<string, SeenSession>;
}

interface Meta {
  cursor: string;
  event: EventInfo | null;
  /** When the programme was last confirmed current with the server (ms since epoch). */
  syncedAt: number;
  /** The point the "Changes" view counts from. */
  changesSeen: ChangesSeen;
  /** Today's part of the programme, shown until the whole arrives (see `PartialProgramme`). */
  partial: PartialProgramme;
}

interface KumpulSchema extends DBSchema {
  meta: { key: keyof Meta; value: Meta[keyof Meta] };
  rooms: { key: string; value: Room };
  tracks: { key: string; value: Track };
  formats: { key: string; value: Format };
  speakers: { key: string; value: Speaker };
  sessions: { key: string; value: Session };
  announcements: { key: string; value: Announcement };
  bookmarks: { key: string; value: Bookmark };
  reads: { key: string; value: { id: string; readAt: number } };
  docs: { key: string; value: DocRecord };
  /** This device's changes not yet merged into `docs`: written without reading first, so a save survives the page going away. */
  docUpdates: { key: number; value: PendingUpdate };
  private: { key: keyof PrivateMeta; value: PrivateMeta[keyof PrivateMeta] };
  /** Session feedback, by session id (see feedback-store.ts). */
  feedback: { key: string; value: FeedbackRecord };
}

type ProgrammeStore = (typeof COLLECTIONS)[CollectionKind];
const PROGRAMME_STORES = Object.values(COLLECTIONS) as ProgrammeStore[];

let opening: Promise<IDBPDatabase<KumpulSchema>> | null = null;

/** The database, opened on first use. */
export function db(): Promise<IDBPDatabase<KumpulSchema>> {
  opening ??= openDB<KumpulSchema>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore("meta");
        for (const name of PROGRAMME_STORES) database.createObjectStore(name, { keyPath: "id" });
        database.createObjectStore("bookmarks", { keyPath: "sessionId" });
        database.createObjectStore("reads", { keyPath: "id" });
      }
      if (oldVersion < 2) {
        database.createObjectStore("docs", { keyPath: "id" });
        database.createObjectStore("docUpdates", { autoIncrement: true });
        database.createObjectStore("private");
      }
      if (oldVersion < 3) {
        database.createObjectStore("feedback", { keyPath: "sessionId" });
      }
    },
    blocking() {
      // A newer version of the app wants to upgrade: let it.
      void closeDb();
    },
  });
  return opening;
}

/** Close the database; the next verb opens it again. */
export async function closeDb(): Promise<void> {
  const current = opening;
  opening = null;
  if (current) (await current).close();
}

/** The stored programme, or null before the first download. */
export async function getProgramme(): Promise<Programme | null> {
  const database = await db();
  const tx = database.transaction(["meta", ...PROGRAMME_STORES], "readonly");
  const cursor = (await tx.objectStore("meta").get("cursor")) as string | undefined;
  if (cursor === undefined) return null;
  const raw: Record<string, unknown> = {
    cursor,
    event: ((await tx.objectStore("meta").get("event")) as EventInfo | null | undefined) ?? null,
  };
  for (const name of PROGRAMME_STORES) raw[name] = await tx.objectStore(name).getAll();
  await tx.done;
  return normaliseProgramme(raw as unknown as Programme);
}

/** The stored cursor, or null before the first download. */
export async function getCursor(): Promise<string | null> {
  return ((await (await db()).get("meta", "cursor")) as string | undefined) ?? null;
}

/** When the programme was last known current (ms since epoch), or null. */
export async function getSyncedAt(): Promise<number | null> {
  return ((await (await db()).get("meta", "syncedAt")) as number | undefined) ?? null;
}

export async function setSyncedAt(when: number): Promise<void> {
  await (await db()).put("meta", when, "syncedAt");
}

/**
 * One day's part of the programme (`/api/programme/at/{cursor}/day/{day}`), shown on a first visit while the whole
 * downloads. Kept apart from the snapshot (the `partial` key of `meta`), never under `cursor`: the change feed
 * starts only from the whole, and `putProgramme` removes the part.
 */
export interface PartialProgramme {
  programme: Programme;
  /** The day it holds (YYYY-MM-DD in the event's zone), or null when the server's answer did not say. */
  day: string | null;
}

/** Today's part of the programme kept while the whole is still on its way, or null. */
export async function getPartialProgramme(): Promise<PartialProgramme | null> {
  const stored = (await (await db()).get("meta", "partial")) as PartialProgramme | undefined;
  return stored ? { programme: normaliseProgramme(stored.programme), day: stored.day } : null;
}

/** Keep a day's part until the whole arrives; ignored once the whole is stored (another tab may have got it). */
export async function putPartialProgramme(part: PartialProgramme): Promise<boolean> {
  const tx = (await db()).transaction("meta", "readwrite");
  const meta = tx.objectStore("meta");
  if ((await meta.get("cursor")) !== undefined) {
    await tx.done;
    return false;
  }
  await Promise.all([meta.put(part, "partial"), tx.done]);
  return true;
}

/** Forget a day's part kept from an earlier day (today is not an event day, or it is another day now). */
export async function dropPartialProgramme(): Promise<void> {
  await (await db()).delete("meta", "partial");
}

/** Replace the stored programme with a whole snapshot (and drop the day's part shown until it came). */
export async function putProgramme(snapshot: Programme, syncedAt = Date.now()): Promise<void> {
  const database = await db();
  const tx = database.transaction(["meta", ...PROGRAMME_STORES], "readwrite");
  const writes: Promise<unknown>[] = [];
  for (const name of PROGRAMME_STORES) {
    const store = tx.objectStore(name);
    writes.push(store.clear());
    const items = ((snapshot as unknown as Record<string, unknown>)[name] as { id: string }[] | undefined) ?? [];
    for (const item of items) writes.push(store.put(item as never));
  }
  const meta = tx.objectStore("meta");
  writes.push(meta.put(snapshot.event ?? null, "event"), meta.put(snapshot.cursor, "cursor"));
  writes.push(meta.put(syncedAt, "syncedAt"), meta.delete("partial"));
  await Promise.all([...writes, tx.done]);
}

/**
 * Apply a page of the change feed, in one transaction, if the stored cursor is still `since`.
 *
 * @returns false when another context (a tab, the service worker) moved the cursor meanwhile;
 *   nothing is written then.
 */
export async function putChanges(since: string, changes: Change[], cursor: string, syncedAt = Date.now()): Promise<boolean> {
  const invalid = changes.find((change) => !change.deleted && change.data == null);
  if (invalid) throw new Error(`upsert of ${invalid.type} ${JSON.stringify(invalid.id)} carries no data`);
  const database = await db();
  const tx = database.transaction(["meta", ...PROGRAMME_STORES], "readwrite");
  const meta = tx.objectStore("meta");
  if ((await meta.get("cursor")) !== since) {
    tx.abort();
    await tx.done.catch(() => undefined);
    return false;
  }
  const writes: Promise<unknown>[] = [];
  for (const change of changes) {
    if (change.type === "event") {
      writes.push(meta.put(change.deleted ? null : (change.data as unknown as EventInfo), "event"));
    } else if (isCollectionKind(change.type)) {
      const store = tx.objectStore(COLLECTIONS[change.type]);
      writes.push(change.deleted ? store.delete(change.id) : store.put(change.data as never));
    }
  }
  writes.push(meta.put(cursor, "cursor"), meta.put(syncedAt, "syncedAt"));
  await Promise.all([...writes, tx.done]);
  return true;
}

/** Where "Changes" counts from, or null before the attendee's first look. */
export async function getChangesSeen(): Promise<ChangesSeen | null> {
  return ((await (await db()).get("meta", "changesSeen")) as ChangesSeen | undefined) ?? null;
}

export async function putChangesSeen(seen: ChangesSeen): Promise<void> {
  await (await db()).put("meta", seen, "changesSeen");
}

/** The ids of bookmarked sessions, oldest bookmark first. */
export async function listBookmarks(): Promise<string[]> {
  const all = await (await db()).getAll("bookmarks");
  return all.sort((a, b) => a.addedAt - b.addedAt).map((bookmark) => bookmark.sessionId);
}

export async function addBookmark(sessionId: string, addedAt = Date.now()): Promise<void> {
  await (await db()).put("bookmarks", { sessionId, addedAt });
}

export async function removeBookmark(sessionId: string): Promise<void> {
  await (await db()).delete("bookmarks", sessionId);
}

/** The ids of announcements this device has shown. */

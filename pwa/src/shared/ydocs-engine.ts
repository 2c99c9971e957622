/**
 * The attendee's private documents, live in the page: `profile` (bookmarks, read
 * announcements, preferences) and one `note:<uuid>` per note, as Yjs documents.
 *
 * Every change made here is saved to IndexedDB (debounced while typing, at once when the page
 * hides) in two steps: the document's state is appended to `docUpdates` with one put committed at
 * once — no read first, so it completes even as the page goes away — and then merged into the
 * stored document, so another tab or the service worker that wrote meanwhile loses nothing.
 * Loaded lazily: Yjs is not part of the first screen.
 */

import * as Y from "yjs";

import { db, type DocRecord } from "./db";
import { wantIdentity } from "./private-api";
import { foldPendingUpdates } from "./private-sync";
import { clearLegacyBookmarks, getPrivate, legacyBookmarks, listDocRecords, setPrivate } from "./private-store";

/** Transaction origin of changes read from IndexedDB (synced from the server, or saved by another tab). */
export const STORE_ORIGIN = "kumpul:store";
/** Transaction origin of this device's own edits. */
export const LOCAL_ORIGIN = "kumpul:local";
export const PROFILE = "profile";
/** The bookmarks, encrypted, while the attendee keeps their agenda from the server. */
export const AGENDA = "agenda";
export const NOTE_PREFIX = "note:";

const SAVE_DELAY_MS = 300;
const SAVE_MAX_WAIT_MS = 1_000;
const CHANNEL = "kumpul-private";

export interface NoteInfo {
  /** The document id, `note:<uuid>`. */
  id: string;
  uuid: string;
  sessionId: string | null;
  createdAt: number;
  title: string;
  body: string;
  deleted: boolean;
  updatedAt: number;
}

export interface DocState {
  rev: number;
  syncedRev: number;
  textBytes: number;
  refused: { rev: number; reason: string } | null;
  /** A local change is waiting for its debounced save. */
  unsaved: boolean;
}

type Message = { type: "docs"; ids: string[] } | { type: "reset" };

const encoder = new TextEncoder();

export function isNoteId(id: string): boolean {
  return id.startsWith(NOTE_PREFIX);
}

/** UTF-8 bytes of a note's title and body: what the server's 100 KB limit measures. */
export function noteTextBytes(doc: Y.Doc): number {
  return encoder.encode(doc.getText("title").toString()).length + encoder.encode(doc.getText("body").toString()).length;
}

/** A random note id (`note:` and a lower-case UUID, as the server requires). */
export function newNoteId(): string {
  return NOTE_PREFIX + randomUuid();
}

function randomUuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return formatUuid(bytes);
}

function formatUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The id of the note attached to a session: the same on every device of the attendee, so notes
 * written for one session on two devices are one document and merge (a name-based UUID, version 8).
 */
export function sessionNoteId(sessionId: string): string {
  // Four rounds of a 32-bit FNV-1a variant with different seeds give 128 bits.
  const bytes = new Uint8Array(16);
  const text = `kumpul/session-note/${sessionId}`;
  for (let round = 0; round < 4; round += 1) {
    let hash = (0x811c9dc5 ^ Math.imul(round + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < text.length; i += 1) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0x2c1b3c6d) >>> 0;
    hash ^= hash >>> 12;
    bytes.set([hash >>> 24, (hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff], round * 4);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return NOTE_PREFIX + formatUuid(bytes);
}

function noteInfo(id: string, doc: Y.Doc, updatedAt: number): NoteInfo {
  const meta = doc.getMap<unknown>("meta");
  const sessionId = meta.get("sessionId");
  const createdAt = meta.get("createdAt");
  return {
    id,
    uuid: id.slice(NOTE_PREFIX.length),
    sessionId: typeof sessionId === "string" && sessionId ? sessionId : null,
    createdAt: typeof createdAt === "number" ? createdAt : updatedAt,
    title: doc.getText("title").toString(),
    body: doc.getText("body").toString(),
    deleted: meta.get("deleted") === true,
    updatedAt,
  };
}

export class PrivateDocs {
  private readonly docs = new Map<string, Y.Doc>();
  private readonly states = new Map<string, DocState>();
  private readonly updated = new Map<string, number>();
  private readonly timers = new Map<string, { timer: ReturnType<typeof setTimeout>; since: number }>();
  private readonly saving = new Map<string, Promise<void>>();
  private database: Awaited<ReturnType<typeof db>> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly savedListeners = new Set<(id: string) => void>();
  /** Rises when every document was dropped (erased): views bound to old documents bind again. */
  generation = 0;
  private readonly channel: BroadcastChannel | null =
    typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;

  constructor() {
    this.channel?.addEventListener("message", (event: MessageEvent<Message>) => {
      if (event.data.type === "docs") void this.reload(event.data.ids);
      if (event.data.type === "reset") void this.reset(false).then(() => this.reload());
    });
  }

  /** Read every stored document. */
  async load(): Promise<void> {
    this.database = await db();
    await foldPendingUpdates();
    await this.reload();
  }

  /** Call `listener` after any change: content, sync state, documents added or removed. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Call `listener` after a document was saved with a change of this device. */
  onSaved(listener: (id: string) => void): () => void {
    this.savedListeners.add(listener);
    return () => this.savedListeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  /** The document `id`, created empty (and not saved until something is written) when new. */
  doc(id: string): Y.Doc {
    let doc = this.docs.get(id);
    if (!doc) {
      doc = new Y.Doc();
      this.docs.set(id, doc);
      doc.on("update", (_update: Uint8Array, origin: unknown) => {
        if (origin !== STORE_ORIGIN) this.scheduleSave(id);
        this.emit();
      });
    }
    return doc;
  }

  has(id: string): boolean {
    return this.states.has(id) || this.timers.has(id) || this.saving.has(id);
  }

  profile(): Y.Doc {
    return this.doc(PROFILE);
  }

  state(id: string): DocState | undefined {
    const state = this.states.get(id);
    const unsaved = this.timers.has(id) || this.saving.has(id);
    if (!state) return unsaved ? { rev: 1, syncedRev: 0, textBytes: 0, refused: null, unsaved } : undefined;
    return { ...state, unsaved };
  }

  /** Every note this device holds (deleted ones too), newest change first. */
  notes(): NoteInfo[] {
    const result: NoteInfo[] = [];
    for (const [id, doc] of this.docs) {
      if (!isNoteId(id) || !this.has(id)) continue;
      result.push(noteInfo(id, doc, this.updated.get(id) ?? Date.now()));
    }
    return result.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  note(id: string): NoteInfo | null {
    const doc = this.docs.get(id);
    return doc && this.has(id) ? noteInfo(id, doc, this.updated.get(id) ?? Date.now()) : null;
  }

  /**
   * Change a note as this device: the first change gives it its creation time and session, and a
   * deleted note that is written to again comes back.
   */
  editNote(id: string, sessionId: string | null, change: (doc: Y.Doc) => void = () => undefined): Y.Doc {
    const doc = this.doc(id);
    doc.transact(() => {
      const meta = doc.getMap<unknown>("meta");
      if (!meta.has("createdAt")) {
        meta.set("createdAt", Date.now());
        meta.set("sessionId", sessionId);
      }
      if (meta.get("deleted") === true) meta.set("deleted", false);
      change(doc);
    }, LOCAL_ORIGIN);
    return doc;
  }

  /** Delete a note: its text is removed and it is marked deleted on every device. */
  deleteNote(id: string): void {
    const doc = this.doc(id);
    doc.transact(() => {
      for (const name of ["title", "body"]) {
        const text = doc.getText(name);
        if (text.length > 0) text.delete(0, text.length);
      }
      doc.getMap<unknown>("meta").set("deleted", true);
    }, LOCAL_ORIGIN);
  }

  /**
   * Whether the server may see the agenda (the profile's bookmarks), for the calendar feed, change
   * alerts and reminders; when not, the bookmarks live in the encrypted `agenda` document.
   */
  agendaOnServer(): boolean {
    return this.profile().getMap<unknown>("prefs").get("agendaOnServer") !== false;
  }

  private agendaDoc(): Y.Doc {
    return this.agendaOnServer() ? this.profile() : this.doc(AGENDA);
  }

  bookmarks(): Set<string> {
    const map = this.agendaDoc().getMap<unknown>("bookmarks");
    return new Set([...map.entries()].filter(([, value]) => Boolean(value)).map(([key]) => key));
  }

  setBookmark(sessionId: string, saved: boolean): void {
    const doc = this.agendaDoc();
    const map = doc.getMap<unknown>("bookmarks");
    doc.transact(() => {
      if (saved) map.set(sessionId, true);
      else map.delete(sessionId);
    }, LOCAL_ORIGIN);
  }

  /** Move the bookmarks into the plaintext profile (`on`) or the encrypted agenda, and remember the choice. */
  setAgendaOnServer(on: boolean): void {
    const profile = this.profile();
    const agenda = this.doc(AGENDA);
    const [from, to] = on ? [agenda, profile] : [profile, agenda];
    const saved = [...from.getMap<unknown>("bookmarks").entries()].filter(([, value]) => Boolean(value)).map(([key]) => key);
    to.transact(() => {
      const map = to.getMap<unknown>("bookmarks");
      for (const id of saved) map.set(id, true);
    }, LOCAL_ORIGIN);
    from.transact(() => {
      const map = from.getMap<unknown>("bookmarks");
      for (const id of [...map.keys()]) map.delete(id);
    }, LOCAL_ORIGIN);
    profile.transact(() => profile.getMap<unknown>("prefs").set("agendaOnServer", on), LOCAL_ORIGIN);
  }

  readAnnouncements(): Set<string> {
    const map = this.profile().getMap<unknown>("read");
    return new Set([...map.entries()].filter(([, value]) => Boolean(value)).map(([key]) => key));
  }

  markAnnouncementsRead(ids: Iterable<string>): void {
    const map = this.profile().getMap<unknown>("read");
    const unread = [...ids].filter((id) => !map.get(id));
    if (unread.length === 0) return;
    this.profile().transact(() => {
      for (const id of unread) map.set(id, true);
    }, LOCAL_ORIGIN);
  }

  /** Move the bookmarks the first app version kept in the "bookmarks" store into the profile, once. */
  async migrateBookmarks(): Promise<number> {
    if (await getPrivate("bookmarksMigrated")) return 0;
    const legacy = await legacyBookmarks();
    if (legacy.length > 0) {
      const map = this.profile().getMap<unknown>("bookmarks");
      this.profile().transact(() => {
        for (const id of legacy) map.set(id, true);
      }, LOCAL_ORIGIN);
      await this.flush(PROFILE);
      await wantIdentity();
    }
    await setPrivate("bookmarksMigrated", true);
    await clearLegacyBookmarks();
    return legacy.length;
  }

  private scheduleSave(id: string): void {
    const pending = this.timers.get(id);
    const now = Date.now();
    if (pending) clearTimeout(pending.timer);
    const since = pending?.since ?? now;
    const delay = Math.max(0, Math.min(SAVE_DELAY_MS, since + SAVE_MAX_WAIT_MS - now));
    this.timers.set(id, { since, timer: setTimeout(() => void this.flush(id), delay) });
  }

  /**
   * Save now what waits for its debounced save (one document, or all of them). The first step of
   * each save is issued before this returns its promise, so calling it from `pagehide` is enough.
   */
  async flush(id?: string): Promise<void> {
    const ids = id === undefined ? [...this.timers.keys()] : this.timers.has(id) ? [id] : [];
    await Promise.all(ids.map((each) => this.save(each)));
    // A save already under way finishes before flush returns.
    await Promise.all(id === undefined ? [...this.saving.values()] : [this.saving.get(id)]);
  }

  /** Step one of a save: the whole state of `id` as a pending update, committed without waiting. */
  private stash(id: string): Promise<void> {
    const pending = this.timers.get(id);
    if (pending) clearTimeout(pending.timer);
    this.timers.delete(id);
    const doc = this.docs.get(id);
    if (!doc) return Promise.resolve();
    const write = (database: NonNullable<PrivateDocs["database"]>) => {
      const tx = database.transaction("docUpdates", "readwrite");
      void tx.store.add({ id, update: Y.encodeStateAsUpdate(doc) });
      tx.commit();
      return tx.done;
    };
    return this.database ? write(this.database) : db().then(write);
  }

  private save(id: string): Promise<void> {
    const stashed = this.stash(id);
    const previous = this.saving.get(id) ?? Promise.resolve();
    const run = Promise.all([previous, stashed])
      .then(() => this.merge(id))
      .catch((error: unknown) => {
        console.error(`Kumpul could not save ${id} on this device`, error);
        this.scheduleSave(id);
      })
      .finally(() => {
        if (this.saving.get(id) === run) this.saving.delete(id);
      });
    this.saving.set(id, run);
    return run;
  }

  /** Step two: merge pending updates into the stored documents, and take what others stored meanwhile. */
  private async merge(id: string): Promise<void> {
    const changed = await foldPendingUpdates();
    await this.reload(changed.includes(id) ? changed : [...changed, id]);
    this.channel?.postMessage({ type: "docs", ids: changed } satisfies Message);
    for (const listener of this.savedListeners) listener(id);
  }

  private remember(record: DocRecord): void {
    this.states.set(record.id, {
      rev: record.rev,
      syncedRev: record.syncedRev,
      textBytes: record.textBytes,
      refused: record.refused,
      unsaved: false,
    });
    this.updated.set(record.id, record.updatedAt);
  }

  /** Read documents from IndexedDB again (after a sync, or a save in another tab): all, or `ids`. */
  async reload(ids?: readonly string[]): Promise<void> {
    const records =
      ids === undefined
        ? await listDocRecords()
        : (await Promise.all(ids.map(async (id) => (await db()).get("docs", id)))).filter((record) => record !== undefined);
    for (const record of records) {
      Y.applyUpdate(this.doc(record.id), record.state, STORE_ORIGIN);
      this.remember(record);
    }
    this.emit();
  }

  /** Forget every document in memory (after erasing); `broadcast` tells the other tabs. */
  async reset(broadcast = true): Promise<void> {
    for (const pending of this.timers.values()) clearTimeout(pending.timer);
    this.timers.clear();
    await Promise.all(this.saving.values());
    for (const doc of this.docs.values()) doc.destroy();
    this.docs.clear();
    this.states.clear();
    this.updated.clear();
    this.generation += 1;
    if (broadcast) this.channel?.postMessage({ type: "reset" } satisfies Message);
    this.emit();
  }
}

let opened: Promise<PrivateDocs> | null = null;

/** The page's documents, read from IndexedDB on first use. */
export function open(): Promise<PrivateDocs> {
  opened ??= (async () => {
    const docs = new PrivateDocs();
    await docs.load();
    return docs;
  })();
  return opened;
}

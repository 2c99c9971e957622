/**
 * The attendee's private data for the views, as signals: bookmarks, the notes' sync state, the
 * identity; and the outbox that syncs them. Small on purpose: it is part of the first screen, and
 * loads Yjs (through `shared/ydocs`) only once that screen has rendered.
 */

import { batch, signal } from "@preact/signals";

import { ApiError, followCalendarLanguage, IdentityLostError, MAX_NOTE_TEXT_BYTES, wantIdentity } from "../../shared/private-api";
import { getIdentity, getPrivate, setPrivate } from "../../shared/private-store";
import { privateDocs, privateDocsNow, type PrivateDocs } from "../../shared/ydocs";
import { lang } from "../prefs";
import { createOutbox, type Outbox } from "./outbox";

/** Bookmarked session ids, from the profile document. */
export const bookmarks = signal<ReadonlySet<string>>(new Set());
/** The private documents are loaded (Yjs is there). */
export const docsReady = signal(false);
/** Rises on every change of any private document, so views showing them render again. */
export const docsVersion = signal(0);
/** Documents in the request under way. */
export const sending = signal<ReadonlySet<string>>(new Set());
export const identityState = signal<"none" | "active" | "lost">("none");
/** The last private sync reached the server (or none failed yet). */
export const privateReachable = signal(true);
export const privateOnline = signal(typeof navigator === "undefined" ? true : navigator.onLine);
export const lastPrivateSync = signal<number | null>(null);
/** The server may see the agenda (calendar feed, change alerts, reminders). */
export const agendaOnServer = signal(true);
/** The attendee's notes are encrypted under a key this device does not hold: it must be linked again. */
export const vaultLocked = signal(false);
/** How many devices the attendee has, when known (one: losing it loses the notes). */
export const linkedDevices = signal<number | null>(null);

/** Learn how many devices the attendee has (once: the device page keeps it current). */
async function countDevices(): Promise<void> {
  const identity = await getIdentity();
  if (!identity) return;
  try {
    const { listDevices } = await import("../../shared/vault");
    await listDevices(identity);
    await refreshVaultState();
  } catch {
    // Not known yet: the warning about a single device stays until it is.
  }
}

/** Read what the last sync learnt about keys and devices. */
export async function refreshVaultState(): Promise<void> {
  const [locked, count] = await Promise.all([getPrivate("vaultLocked"), getPrivate("linkedDevices")]);
  batch(() => {
    vaultLocked.value = locked === true;
    linkedDevices.value = count ?? null;
  });
}

export type NoteStatus = "local" | "syncing" | "synced" | "tooLong" | "offline";

/** Sync soon after a save, but not on every keystroke. */
const SYNC_AFTER_SAVE_MS = 1_500;
/** While a note is on screen, changes from the attendee's other devices arrive within seconds. */
const WATCHING_POLL_MS = 4_000;
const BACKGROUND_SYNC_TAG = "kumpul-private";

let outbox: Outbox | null = null;
let watching = 0;
let started: Promise<void> | null = null;

/** The status of a document for its status line, or null when it exists on no device yet. */
export function noteStatus(id: string): NoteStatus | null {
  void docsVersion.value;
  const state = privateDocsNow()?.state(id);
  if (!state) return null;
  if (state.textBytes > MAX_NOTE_TEXT_BYTES || state.refused?.rev === state.rev) return "tooLong";
  if (sending.value.has(id)) return "syncing";
  if (!state.unsaved && state.rev <= state.syncedRev) return "synced";
  if (!privateOnline.value || !privateReachable.value) return "offline";
  return "local";
}

function refresh(docs: PrivateDocs): void {
  const next = docs.bookmarks();
  const current = bookmarks.value;
  batch(() => {
    if (next.size !== current.size || [...next].some((id) => !current.has(id))) bookmarks.value = next;
    agendaOnServer.value = docs.agendaOnServer();
    docsVersion.value += 1;
  });
}

async function registerBackgroundSync(): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    const sync = (registration as unknown as { sync?: { register(tag: string): Promise<void> } } | undefined)?.sync;
    await sync?.register(BACKGROUND_SYNC_TAG);
  } catch {
    // No Background Sync here: the outbox retries while the page is open.
  }
}

async function runSync(): Promise<void> {
  const docs = await privateDocs();
  await docs.flush();
  const { syncPrivateDocs } = await import("../../shared/private-sync");
  try {
    const result = await syncPrivateDocs({ onSending: (ids) => (sending.value = new Set(ids)), timeoutMs: 10_000 });
    privateReachable.value = true;
    if (!result.skipped) {
      batch(() => {
        identityState.value = "active";
        lastPrivateSync.value = Date.now();
      });
    }
    await refreshVaultState();
    if (!result.skipped) await turnCalendarFeedOff().catch(() => undefined);
    // The agenda's calendar feed follows the app's language (the server keeps its address).
    if (!result.skipped) await followCalendarLanguage(lang.value).catch(() => undefined);
    if (linkedDevices.value === null && !result.skipped) void countDevices();
    const touched = new Set([...result.received, ...result.sent, ...result.refused.map((item) => item.id)]);
    if (touched.size > 0) await docs.reload([...touched]);
  } catch (error) {
    if (error instanceof IdentityLostError) identityState.value = "lost";
    else if (!(error instanceof ApiError) || error.status >= 500) {
      privateReachable.value = false;
      void registerBackgroundSync();
    }
    throw error;
  } finally {
    sending.value = new Set();
  }
}

/** Sync the private documents now (returns when done; failures are retried by the outbox). */
export function syncPrivateNow(): Promise<void> {
  return outbox?.flush() ?? Promise.resolve();
}

/** Ask for a sync soon (a change was saved, the server answered another request). */
export function requestPrivateSync(delayMs = 0): void {
  outbox?.request(delayMs);
}

/** The server answered a request of the app: a good moment to send what waits. */
export function privateServerReached(): void {
  privateReachable.value = true;
  outbox?.request(0);
}

/** A view shows private documents: poll often while it does. Returns the function that stops. */
export function watchPrivate(): () => void {
  watching += 1;
  outbox?.request(0);
  return () => {
    watching = Math.max(0, watching - 1);
  };
}

/** Syncing may go on (after starting fresh or linking). */
export async function resumePrivateSync(): Promise<void> {
  identityState.value = (await getIdentity()) && !(await getPrivate("identityLost")) ? "active" : "none";
  outbox?.resume();
  await syncPrivateNow();
}

/** Something private was written: make sure an attendee exists to sync it to. */
export function needIdentity(): void {
  void wantIdentity().then(() => requestPrivateSync(SYNC_AFTER_SAVE_MS));
}

/** Add or remove a bookmark; the screen shows the change once it is stored on the device. */
export async function togglePrivateBookmark(sessionId: string): Promise<void> {
  const saved = !bookmarks.value.has(sessionId);
  const docs = await privateDocs();
  docs.setBookmark(sessionId, saved);
  await docs.flush();
  const next = new Set(bookmarks.value);
  if (saved) next.add(sessionId);
  else next.delete(sessionId);
  bookmarks.value = next;
  needIdentity();
}

function afterFirstScreen(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

/**
 * Keep the agenda from the server (`false`: bookmarks move into the encrypted agenda, and the
 * calendar feed is turned off) or give it back (`true`).
 */
export async function setAgendaOnServer(on: boolean): Promise<void> {
  const docs = await privateDocs();
  docs.setAgendaOnServer(on);
  await docs.flush();
  refresh(docs);
  needIdentity();
  if (on) await setPrivate("calendarFeedOff", false);
  if (!on && (await getIdentity())) {
    // Remembered first: if the server cannot be reached now, the next sync turns the feed off.
    await setPrivate("calendarFeedOff", true);
    await turnCalendarFeedOff().catch(() => undefined);
  }
}

/** Turn off the agenda's calendar feed, if taking the agenda off the server asked for it and it is not done yet. */
async function turnCalendarFeedOff(): Promise<void> {
  if (!(await getPrivate("calendarFeedOff"))) return;
  const { deleteCalendarFeed } = await import("../../shared/private-api");
  await deleteCalendarFeed();
  await setPrivate("calendarFeedOff", false);
}

/** Load the documents once the first screen is there, move old bookmarks in, and start syncing. */
export function startPrivate(): Promise<void> {
  started ??= (async () => {
    await afterFirstScreen();
    const docs = await privateDocs();
    try {
      await docs.migrateBookmarks();
    } catch (error) {
      console.error("Kumpul could not move the bookmarks into the profile", error);
    }
    refresh(docs);
    docsReady.value = true;
    docs.subscribe(() => refresh(docs));
    // A saved note also asked for an attendee to sync to (in the same transaction).
    docs.onSaved(() => requestPrivateSync(SYNC_AFTER_SAVE_MS));
    const [identity, lost] = await Promise.all([getIdentity(), getPrivate("identityLost")]);
    identityState.value = lost ? "lost" : identity ? "active" : "none";
    await refreshVaultState();
    outbox = createOutbox({
      run: runSync,
      isOnline: () => navigator.onLine,
      isVisible: () => document.visibilityState === "visible",
      pollMs: () => (watching > 0 ? WATCHING_POLL_MS : null),
      retryAfter: (error) => (error instanceof ApiError ? error.retryAfterMs : null),
      isFatal: (error) => error instanceof IdentityLostError,
      onError: (error) => {
        if (!(error instanceof IdentityLostError)) console.warn("Kumpul will retry syncing notes:", error);
      },
    });
    if (lost) outbox.stop();
    window.addEventListener("online", () => {
      privateOnline.value = true;
      void outbox?.flush();
    });
    window.addEventListener("offline", () => {
      privateOnline.value = false;
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") outbox?.request(0);
      else void docs.flush();
    });
    // Not a word lost: what waits for its debounced save is saved as the page goes away.
    window.addEventListener("pagehide", () => void docs.flush());
    navigator.serviceWorker?.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as { type?: string; ids?: string[] } | null;
      if (data?.type === "PRIVATE_SYNCED") void docs.reload(data.ids);
    });
    outbox.request(0);
  })();
  return started;
}

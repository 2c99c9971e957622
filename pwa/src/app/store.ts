/**
 * The app's state as signals: the programme from IndexedDB, kept current by the sync loop;
 * bookmarks; read announcements; connection and sync status.
 */

import { batch, computed, effect, signal } from "@preact/signals";

import * as db from "../shared/db";
import { timeoutFor } from "../shared/http";
import { syncProgramme } from "../shared/sync";
import type { Programme } from "../shared/types";
import { isBehind } from "./announce/model";
import { showOriginalWhenStale } from "./content";
import { buildModel } from "./model";
import { bookmarks, privateServerReached, startPrivate, togglePrivateBookmark } from "./notes/state";
import { deviceZone, useLocalTime } from "./prefs";
import { createSyncLoop, type SyncLoop } from "./sync-loop";

export const programme = signal<Programme | null>(null);
/**
 * What `programme` holds is only today's part (a first visit while the whole downloads): its other days are not
 * on the device yet.
 */
export const partial = signal(false);
export const model = computed(() => (programme.value ? buildModel(programme.value) : null));
/** The device's copy has been read (there may be none yet). */
export const loaded = signal(false);
export const syncing = signal(false);
export const online = signal(navigator.onLine);
/** The zone times are shown in: the event's, or the device's when the attendee asks. */
export const displayZone = computed(() => (useLocalTime.value ? deviceZone : (model.value?.zone ?? deviceZone)));
/** The language the programme's own texts are written in. */
export const contentLanguage = computed(() => programme.value?.event?.language || "en");
effect(() => {
  showOriginalWhenStale.value = programme.value?.event?.staleTranslations === "original";
});
/** The last attempt to reach the server failed (wifi can be "connected" and still dead). */
export const unreachable = signal(false);
export const syncedAt = signal<number | null>(null);
/** Bookmarked session ids: kept in the attendee's profile document (`notes/state.ts`), synced across devices. */
export { bookmarks };
/** The current time, ticking twice a minute so relative times and "now" stay true. */
export const now = signal(Date.now());
/** Storage is persistent (the browser will not evict the offline copy). */
export const persisted = signal<boolean | null>(null);

/**
 * A whole-programme download under way (a first visit, or after a long time away): kilobytes received and the
 * whole size when the server said it. Null when none is.
 */
export const downloading = signal<{ receivedKb: number; totalKb: number | null } | null>(null);

/** Syncing that lasts long enough to be worth showing (quick polls would only flicker). */
const slowSync = signal(false);

export const connection = computed<"syncing" | "online" | "offline">(() =>
  slowSync.value ? "syncing" : !online.value || unreachable.value ? "offline" : "online",
);

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("kumpul") : null;
let loop: SyncLoop | null = null;
/** The cursor of the last live poke not yet reached: sent along so any server answers with the change. */
const poked = signal<string | undefined>(undefined);
/** When the live stream last told the app where the programme stands (its hello, or a poke). */
const liveHeardAt = signal<number | null>(null);
/** The app knows of a change it has not loaded yet (a live poke ahead of the stored programme). */
export const behind = computed(() => poked.value !== undefined && isBehind(programme.value?.cursor, poked.value));
/**
 * When the app last heard from the server that its copy was current: the last successful pull, or the
 * live stream's last word when it is more recent and nothing it announced is still missing.
 */
export const heardAt = computed(() => {
  const pulled = syncedAt.value;
  const live = behind.value ? null : liveHeardAt.value;
  return live !== null && (pulled === null || live > pulled) ? live : pulled;
});

let markShown: () => void = () => undefined;
let partArrived: () => void = () => undefined;
/**
 * Settles once a programme (the whole, or today's part) is on screen, or the first sync has ended without one. On a
 * first visit over a slow link, what can wait (the Info pages, room status) waits for it instead of competing for
 * the link with today's part.
 */
export const programmeShown = new Promise<void>((resolve) => (markShown = resolve));

/** A day's part as the views show it: the event narrowed to that day, so no tab offers a day not here yet. */
function asShown(part: db.PartialProgramme): Programme {
  const event = part.programme.event;
  if (!event || part.day === null) return part.programme;
  return { ...part.programme, event: { ...event, startDate: part.day, endDate: part.day } };
}

function showPart(part: db.PartialProgramme): void {
  batch(() => {
    programme.value = asShown(part);
    partial.value = true;
  });
  partArrived();
}

async function readProgramme(): Promise<void> {
  const [stored, at] = await Promise.all([db.getProgramme(), db.getSyncedAt()]);
  const part = stored ? null : await db.getPartialProgramme();
  batch(() => {
    if (stored) {
      programme.value = stored;
      partial.value = false;
    } else if (part) {
      showPart(part);
    }
    syncedAt.value = at;
  });
}

async function runSync(attempt: number): Promise<void> {
  syncing.value = true;
  const shown = setTimeout(() => (slowSync.value = syncing.value), 600);
  try {
    const atLeast = poked.value;
    const outcome = await syncProgramme({
      timeoutMs: timeoutFor(attempt),
      atLeast,
      onPart: showPart,
      onProgress: (received, total) => {
        downloading.value = {
          receivedKb: Math.round(received / 1024),
          totalKb: total === null ? null : Math.round(total / 1024),
        };
      },
    });
    if (outcome !== "current" || !programme.value || partial.value) {
      await readProgramme();
      channel?.postMessage("programme");
    } else {
      syncedAt.value = await db.getSyncedAt();
    }
    batch(() => {
      if (atLeast && poked.value === atLeast && !isBehind(programme.value?.cursor, atLeast)) poked.value = undefined;
      unreachable.value = false;
      online.value = true;
    });
    privateServerReached();
  } catch (error) {
    unreachable.value = true;
    throw error;
  } finally {
    clearTimeout(shown);
    downloading.value = null;
    syncing.value = false;
    slowSync.value = false;
  }
}

/**
 * Sync now, outside the schedule (the "check now" button, coming back online, a live poke).
 *
 * @param atLeast The cursor a live poke carried: the feed has reached at least that far.
 */
export function syncNow(atLeast?: string): Promise<void> {
  if (atLeast && isBehind(programme.value?.cursor, atLeast)) poked.value = atLeast;
  return loop?.trigger() ?? Promise.resolve();
}

/** The live stream told the app the programme's cursor (its hello or a poke). */
export function heardLive(cursor: string): void {
  batch(() => {
    if (isBehind(programme.value?.cursor, cursor)) poked.value = cursor;
    liveHeardAt.value = Date.now();
  });
}

/** Read the device's copy, then keep it current in the background. */
export async function start(): Promise<void> {
  try {
    await readProgramme();
  } catch (error) {
    console.error("Kumpul could not read its offline copy", error);
  }
  loaded.value = true;
  loop = createSyncLoop({
    run: runSync,
    isVisible: () => document.visibilityState === "visible",
    isOnline: () => navigator.onLine,
    onError: (error) => console.warn("Kumpul sync will retry:", error),
  });
  window.addEventListener("online", () => {
    online.value = true;
    void loop?.trigger();
  });
  window.addEventListener("offline", () => {
    online.value = false;
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    now.value = Date.now();
    void loop?.trigger();
  });
  setInterval(() => (now.value = Date.now()), 30_000);
  channel?.addEventListener("message", (event: MessageEvent) => {
    if (event.data === "programme") void readProgramme();
  });
  void navigator.storage?.persisted?.().then((value) => (persisted.value = value));
  // The service worker followed the feed in the background (periodic sync).
  navigator.serviceWorker?.addEventListener("message", (event: MessageEvent) => {
    if ((event.data as { type?: string } | null)?.type === "PROGRAMME_UPDATED") void readProgramme();
  });
  const firstSync = loop.trigger();
  const shown = programme.value ? Promise.resolve() : Promise.race([firstSync, new Promise<void>((resolve) => (partArrived = resolve))]);
  void shown.catch(() => undefined).finally(markShown);
  // On a first visit the programme is fetched first; the notes engine (Yjs) loads after it, so the
  // two never compete on a slow link.
  void (programme.value && !partial.value ? Promise.resolve() : firstSync).catch(() => undefined).finally(() => void startPrivate());
}

/** Ask the browser to keep the offline copy: worth asking once the attendee has saved something. */
async function requestPersistence(): Promise<void> {
  if (persisted.value || !navigator.storage?.persist) return;
  persisted.value = await navigator.storage.persist();
}

export async function toggleBookmark(sessionId: string): Promise<void> {
  const adding = !bookmarks.value.has(sessionId);
  await togglePrivateBookmark(sessionId);
  if (adding) void requestPersistence();
}

/**
 * The live stream (`GET /api/live`, Server-Sent Events) while the app is open: announcements show
 * as a banner at once, programme pokes start the change pull, retractions remove, `info` reads the Info pages
 * again (so does every reconnection: changes made meanwhile sent no event this app heard).
 *
 * Open while the page is visible (or hidden for less than a minute) and the device is online.
 * The browser reconnects on its own and resumes with Last-Event-ID; when it gives up (or keeps
 * failing), the app reconnects with exponential backoff. A stream the server refuses (429 from
 * one address, 503 when full) fails at once, and EventSource hides the answer: the app then asks
 * once with fetch what the server said and waits at least its Retry-After, so a venue of phones
 * does not hammer a full server. The change feed stays the source of truth: a stream missed while
 * offline is caught up by the pull on reconnect.
 */

import { signal } from "@preact/signals";

import { db } from "../shared/db";

import type { Announcement } from "../shared/types";
import { asAnnouncement, isBehind, isExpired, isForAttendee } from "./announce/model";
import { audience, liveEntries } from "./announce/state";
import { LIVE_URL, liveRetryDelay, MAX_RETRY_AFTER_MS, probeLive } from "./live-retry";
import { navigate } from "./router";
import { heardLive, loaded, programme, syncNow, unreachable } from "./store";

/** Close the stream after the page has been hidden this long. */
const HIDDEN_CLOSE_MS = 60_000;
/** Errors while the browser reconnects by itself before the app takes over with backoff. */
const MAX_BROWSER_RETRIES = 3;
/** Banners shown at once; older ones give way. */
const MAX_BANNERS = 3;

/** Announcements that arrived live while the app was open, newest first, until dismissed. */
export const banners = signal<readonly Announcement[]>([]);
/** The stream is open (after the server's hello). */
export const liveOpen = signal(false);

let source: EventSource | null = null;
let failures = 0;
let browserRetries = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let hiddenTimer: ReturnType<typeof setTimeout> | null = null;
let connectedBefore = false;

export function dismissBanner(id: string): void {
  banners.value = banners.value.filter((item) => item.id !== id);
}

function data(event: Event): unknown {
  try {
    return JSON.parse((event as MessageEvent<string>).data);
  } catch {
    return null;
  }
}

/** Pull the change feed until the stored programme has reached `cursor` (no extra pull after a failure). */
async function pullTo(cursor: string): Promise<void> {
  if (!loaded.value) return;
  for (let round = 0; round < 2 && isBehind(programme.value?.cursor, cursor); round++) {
    await syncNow(cursor);
    if (unreachable.value) return;
  }
}

/** Keep the device's copy too, so a reload shows it even before the change pull lands. */
async function store(id: string, item: Announcement | null): Promise<void> {
  try {
    const database = await db();
    if (item) await database.put("announcements", item);
    else await database.delete("announcements", id);
  } catch (error) {
    console.warn("Kumpul could not store a live announcement", error);
  }
}

function onAnnouncement(event: Event): void {
  const item = asAnnouncement(data(event));
  if (!item) return;
  const cursor = (event as MessageEvent).lastEventId;
  liveEntries.value = new Map(liveEntries.value).set(item.id, { cursor, announcement: item });
  void store(item.id, item);
  if (!isForAttendee(item, audience.value) || isExpired(item, Date.now())) return;
  banners.value = [item, ...banners.value.filter((other) => other.id !== item.id)].slice(0, MAX_BANNERS);
}

function onRetracted(event: Event): void {
  const id = (data(event) as { id?: unknown } | null)?.id;
  if (typeof id !== "string") return;
  const cursor = (event as MessageEvent).lastEventId;
  liveEntries.value = new Map(liveEntries.value).set(id, { cursor, announcement: null });
  dismissBanner(id);
  void store(id, null);
}

/**
 * Every open app hears `info` at once: each reads the pages after a random pause of up to this long, so a venue
 * of phones does not ask the server in the same instant (the change still shows within 2 s).
 */
const INFO_SPREAD_MS = 1_000;

/** Read the Info pages again (their module loads with the first screen's venue data). */
function onInfo(): void {
  setTimeout(() => void import("./venue-data").then((module) => module.refreshPages()), Math.random() * INFO_SPREAD_MS);
}

function onCursor(event: Event): void {
  const cursor = (data(event) as { cursor?: unknown } | null)?.cursor;
  if (event.type === "hello") {
    if (connectedBefore) onInfo();
    connectedBefore = true;
    failures = 0;
    browserRetries = 0;
    liveOpen.value = true;
    document.documentElement.dataset["live"] = "open";
  }
  if (typeof cursor !== "string") return;
  heardLive(cursor);
  void pullTo(cursor);
}

function close(): void {
  source?.close();
  source = null;
  liveOpen.value = false;
  delete document.documentElement.dataset["live"];
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
}

function wanted(): boolean {
  return navigator.onLine && (document.visibilityState === "visible" || hiddenTimer !== null);
}

function open(): void {
  if (source || retryTimer || !wanted() || typeof EventSource !== "function") return;
  const stream = new EventSource(LIVE_URL);
  source = stream;
  stream.addEventListener("hello", onCursor);
  stream.addEventListener("programme", onCursor);
  stream.addEventListener("announcement", onAnnouncement);
  stream.addEventListener("retracted", onRetracted);
  stream.addEventListener("info", onInfo);
  stream.addEventListener("room-status", (event) => void import("./room-status-sync").then((module) => module.onRoomStatusEvent(event)));
  stream.addEventListener("error", () => {
    if (source !== stream) return;
    liveOpen.value = false;
    browserRetries += 1;
    // CONNECTING: the browser retries by itself (and resumes with Last-Event-ID); let it, a few times.
    if (stream.readyState === EventSource.CONNECTING && browserRetries <= MAX_BROWSER_RETRIES) return;
    const refused = stream.readyState === EventSource.CLOSED;
    close();
    void retryLater(refused);
  });
}

/** Open the stream again after a pause; when the server refused it, no sooner than it asked. */
async function retryLater(refused: boolean): Promise<void> {
  const attempt = failures;
  failures += 1;
  // Holds the place while the server is asked, so nothing else opens the stream meanwhile.
  retryTimer = setTimeout(() => undefined, MAX_RETRY_AFTER_MS);
  const answer = refused ? await probeLive() : null;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    open();
  }, liveRetryDelay(attempt, answer?.retryAfter ?? null));
}

function onVisibility(): void {
  if (document.visibilityState === "visible") {
    if (hiddenTimer) clearTimeout(hiddenTimer);
    hiddenTimer = null;
    open();
  } else if (!hiddenTimer) {
    hiddenTimer = setTimeout(() => {
      hiddenTimer = null;
      close();
    }, HIDDEN_CLOSE_MS);
  }
}

/** Follow the live stream for as long as the app is open; clicks on notifications open in-app links. */
export function startLive(): void {
  window.addEventListener("online", () => {
    failures = 0;
    close();
    open();
  });
  window.addEventListener("offline", close);
  document.addEventListener("visibilitychange", onVisibility);
  // The service worker asks an open window to show a notification's page.
  navigator.serviceWorker?.addEventListener("message", (event: MessageEvent) => {
    const message = event.data as { type?: string; url?: unknown } | null;
    if (message?.type === "NAVIGATE" && typeof message.url === "string" && /^\/(?!\/)/.test(message.url)) navigate(message.url);
  });
  open();
}

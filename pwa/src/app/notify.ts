/**
 * Turning notifications on and off on this device: permission, the browser's push subscription,
 * and its registration with the Kumpul server (with what the attendee asked to hear about), kept
 * current when bookmarks, participation or the language change.
 */

import { effect, signal } from "@preact/signals";

import {
  applicationServerKey,
  forgetSubscription,
  registerSubscription,
  savePushSettings,
  subscriptionJson,
  type PushSettings,
} from "../shared/push";
import { lang, participation } from "./prefs";
import { agendaOnServer } from "./notes/state";
import { DEFAULT_REMINDER, reminderMinutes, setReminderMinutes } from "./reminder-prefs";
import { bookmarks } from "./store";

const ALERTS_KEY = "kumpul.notify.alerts";
/** Wait this long after the last bookmark change before telling the server (taps come in bursts). */
const RESEND_DELAY_MS = 1_500;
const SUBSCRIBE_TIMEOUT_MS = 20_000;

/**
 * - "unsupported": this browser has no Web Push.
 * - "ios-install": iPhone or iPad in Safari: only an app added to the Home Screen can subscribe.
 * - "ready": notifications can be turned on or off here.
 */
export type NotifySupport = "unsupported" | "ios-install" | "ready";

export type NotifyState = "off" | "on" | "working";

/** Our own failure for the view to explain (permission refused is shown through `permission`). */
export type NotifyError = "failed" | null;

export const notifyState = signal<NotifyState>("off");
export const notifyError = signal<NotifyError>(null);
export const permission = signal<NotificationPermission>(typeof Notification === "function" ? Notification.permission : "default");
/** Alert me when my bookmarked sessions change. */
export const alertSessions = signal(readFlag());

function readFlag(): boolean {
  try {
    return localStorage.getItem(ALERTS_KEY) === "1";
  } catch {
    return false;
  }
}

/** iPhone or iPad (iPadOS says it is a Mac, but has touch). */
export function isIos(userAgent: string, maxTouchPoints: number): boolean {
  return /iPhone|iPad|iPod/.test(userAgent) || (/Macintosh/.test(userAgent) && maxTouchPoints > 1);
}

function isStandalone(): boolean {
  return (
    window.matchMedia?.("(display-mode: standalone)").matches === true ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true
  );
}

export function notifySupport(): NotifySupport {
  if (isIos(navigator.userAgent, navigator.maxTouchPoints ?? 0) && !isStandalone()) return "ios-install";
  const capable = "serviceWorker" in navigator && typeof PushManager === "function" && typeof Notification === "function";
  return capable ? "ready" : "unsupported";
}

/**
 * What the server is told: the bookmarked sessions when change alerts or reminders are on (none while the
 * attendee keeps their agenda from the server), how long before them a reminder comes, and whether changes alert.
 */
function settings(): PushSettings {
  const minutes = reminderMinutes.value ?? null;
  const following = (alertSessions.value || minutes !== null) && agendaOnServer.value;
  return {
    participation: participation.value,
    alertSessions: following ? [...bookmarks.value] : [],
    lang: lang.value,
    reminderMinutes: following ? minutes : null,
    changeAlerts: alertSessions.value,
  };
}

/** `promise`, or an error after `ms` (a push service out of reach can leave a subscription pending for ever). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The active service worker's registration; it may still be installing on a first visit. */
function registration(): Promise<ServiceWorkerRegistration> {
  return within(navigator.serviceWorker.ready, 15_000, "activating the service worker");
}

async function currentSubscription(): Promise<PushSubscription | null> {
  if (notifySupport() !== "ready") return null;
  const found = await navigator.serviceWorker.getRegistration();
  return found?.active ? found.pushManager.getSubscription() : null;
}

/** Send the subscription and the current settings to the server. */
async function register(subscription: PushSubscription): Promise<void> {
  const json = subscriptionJson(subscription);
  if (!json) throw new Error("the push subscription has no keys");
  const current = settings();
  await registerSubscription(json, current);
  await savePushSettings(current);
}

/** Ask for permission, subscribe this device and register it with the server. */
export async function turnOn(): Promise<void> {
  notifyError.value = null;
  notifyState.value = "working";
  try {
    permission.value = await Notification.requestPermission();
    if (permission.value !== "granted") {
      notifyState.value = "off";
      return;
    }
    // Reminders come 10 minutes ahead unless the attendee chose otherwise (or chose none).
    if (reminderMinutes.value === undefined) setReminderMinutes(DEFAULT_REMINDER);
    const pushManager = (await registration()).pushManager;
    const subscription =
      (await pushManager.getSubscription()) ??
      (await within(
        pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: await applicationServerKey() }),
        SUBSCRIBE_TIMEOUT_MS,
        "subscribing with the push service",
      ));
    await register(subscription);
    notifyState.value = "on";
  } catch (error) {
    console.warn("Kumpul could not turn notifications on", error);
    notifyError.value = "failed";
    notifyState.value = "off";
  }
}

/** Unsubscribe this device in the browser and on the server. */
export async function turnOff(): Promise<void> {
  notifyError.value = null;
  notifyState.value = "working";
  try {
    const subscription = await currentSubscription();
    if (subscription) {
      const json = subscriptionJson(subscription);
      await subscription.unsubscribe();
      // The browser no longer delivers; if the server cannot be told now, it learns on its next send (410).
      if (json) await forgetSubscription(json).catch((error: unknown) => console.warn("Kumpul will be forgotten by the server later", error));
    }
    await savePushSettings(null);
  } finally {
    notifyState.value = "off";
  }
}

export function setAlertSessions(value: boolean): void {
  alertSessions.value = value;
  try {
    localStorage.setItem(ALERTS_KEY, value ? "1" : "0");
  } catch {
    // Private mode: for this visit only.
  }
}

let resend: ReturnType<typeof setTimeout> | null = null;

/** Re-register soon with the current settings (bookmarks, alerts, participation changed). */
function scheduleResend(): void {
  if (resend) clearTimeout(resend);
  resend = setTimeout(() => {
    resend = null;
    void currentSubscription()
      .then((subscription) => subscription && register(subscription))
      .catch((error: unknown) => console.warn("Kumpul will send notification settings later", error));
  }, RESEND_DELAY_MS);
}

/** Find out whether this device is subscribed, and keep the server's copy of its settings current. */
export async function startNotify(): Promise<void> {
  // The attendee may have allowed or blocked notifications in the browser's settings meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (typeof Notification === "function") permission.value = Notification.permission;
  });
  try {
    notifyState.value = (await currentSubscription()) ? "on" : "off";
  } catch {
    notifyState.value = "off";
  }
  let first = true;
  effect(() => {
    // Read every setting the server gets, so that a change to any of them re-registers.
    const following = alertSessions.value || Boolean(reminderMinutes.value);
    const watched = [participation.value, lang.value, alertSessions.value, reminderMinutes.value, agendaOnServer.value, following && bookmarks.value];
    if (first || notifyState.peek() !== "on") {
      first = false;
      return;
    }
    void watched;
    scheduleResend();
  });
  // Notifications turned on before reminders existed: reminders start at the default, and the server is told.
  if (notifyState.peek() === "on" && reminderMinutes.peek() === undefined) setReminderMinutes(DEFAULT_REMINDER);
}

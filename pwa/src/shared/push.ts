/**
 * Web Push registration with the Kumpul server, shared by the page (turning notifications on and
 * off) and the service worker (`pushsubscriptionchange`): the server's applicationServerKey,
 * registering and forgetting a subscription, and what this device asked to hear about, kept where
 * the worker can read it (Cache Storage: the worker has no localStorage).
 */

import { getJson, HttpError, REQUEST_TIMEOUT_MS } from "./http";
import { getIdentity } from "./private-store";

export const PUSH_KEY_URL = "/api/push/key";
export const SUBSCRIPTIONS_URL = "/api/push/subscriptions";
const SETTINGS_CACHE = "kumpul-push";
const SETTINGS_URL = "/push-settings.json";

/** What this device asked for, sent with every registration. */
export interface PushSettings {
  participation: "onsite" | "online" | null;
  /** Alerts for bookmarked sessions that change: their ids, or none when off. */
  alertSessions: string[];
  /** The attendee's language (the app's interface language): announcements come in it when translated. */
  lang?: string | null;
  /** Minutes before each session in `alertSessions` a reminder comes; null or absent: none. */
  reminderMinutes?: number | null;
  /** Alerts when those sessions change; false when they are sent for reminders only. */
  changeAlerts?: boolean;
}

/** A BCP 47 tag the server accepts (`LanguageCode` in `server/schemas/base.py`). */
const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** The server's VAPID public key (base64url), as `pushManager.subscribe` wants it. */
export async function applicationServerKey(): Promise<Uint8Array<ArrayBuffer>> {
  const { publicKey } = await getJson<{ publicKey: string }>(PUSH_KEY_URL);
  return base64UrlToBytes(publicKey);
}

export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The attendee's bearer token when this device has one (made by the private sync); never created here. */
export async function attendeeToken(): Promise<string | null> {
  try {
    return (await getIdentity())?.token ?? null;
  } catch {
    return null;
  }
}

async function send(method: "POST" | "DELETE", url: string, body?: unknown, token?: string | null): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS * 2);
  try {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: "same-origin",
      signal: controller.signal,
    });
    // Forgetting an endpoint the server no longer knows is done already.
    if (!response.ok && !(method === "DELETE" && response.status === 404)) throw new HttpError(response.status, url);
  } finally {
    clearTimeout(timer);
  }
}

/** Register (or update) a subscription with the server, with the attendee's token when there is one. */
export async function registerSubscription(subscription: SubscriptionJson, settings: PushSettings): Promise<void> {
  const body: Record<string, unknown> = {
    endpoint: subscription.endpoint,
    keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
    alertSessions: settings.alertSessions.slice(0, 500),
  };
  if (settings.participation) body["participation"] = settings.participation;
  if (settings.lang && LANGUAGE_TAG.test(settings.lang)) body["lang"] = settings.lang;
  if (settings.reminderMinutes) body["reminderMinutes"] = settings.reminderMinutes;
  if (settings.changeAlerts === false) body["changeAlerts"] = false;
  await send("POST", SUBSCRIPTIONS_URL, body, await attendeeToken());
}

/**
 * Forget a subscription on the server. Its endpoint goes in the body, never the URL (URLs end up in logs),
 * with its auth secret, which proves to the server that this device made it; the attendee's token too.
 */
export async function forgetSubscription(subscription: SubscriptionJson): Promise<void> {
  await send("DELETE", SUBSCRIPTIONS_URL, { endpoint: subscription.endpoint, auth: subscription.keys.auth }, await attendeeToken());
}

/** A browser PushSubscription as JSON, or null when it lacks its keys. */
export function subscriptionJson(subscription: PushSubscription): SubscriptionJson | null {
  const json = subscription.toJSON() as { endpoint?: string; keys?: Record<string, string> };
  const p256dh = json.keys?.["p256dh"];
  const auth = json.keys?.["auth"];
  return json.endpoint && p256dh && auth ? { endpoint: json.endpoint, keys: { p256dh, auth } } : null;
}

export async function savePushSettings(settings: PushSettings | null): Promise<void> {
  try {
    const cache = await caches.open(SETTINGS_CACHE);
    if (settings) await cache.put(SETTINGS_URL, new Response(JSON.stringify(settings), { headers: { "Content-Type": "application/json" } }));
    else await cache.delete(SETTINGS_URL);
  } catch {
    // No Cache Storage (private mode): the worker re-registers with the defaults.
  }
}

export async function loadPushSettings(): Promise<PushSettings> {
  try {
    const response = await (await caches.open(SETTINGS_CACHE)).match(SETTINGS_URL);
    const value = (await response?.json()) as Partial<PushSettings> | undefined;
    return {
      participation: value?.participation === "onsite" || value?.participation === "online" ? value.participation : null,
      alertSessions: Array.isArray(value?.alertSessions) ? value.alertSessions.filter((id) => typeof id === "string") : [],
      lang: typeof value?.lang === "string" ? value.lang : null,
      reminderMinutes: typeof value?.reminderMinutes === "number" ? value.reminderMinutes : null,
      changeAlerts: value?.changeAlerts !== false,
    };
  } catch {
    return { participation: null, alertSessions: [] };
  }
}

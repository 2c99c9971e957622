/**
 * Web Push in the service worker: show each message as a notification, open its page on a click,
 * and register again when the browser renews the subscription.
 *
 * The worker's objects come in as arguments (only what is used), so the tests can hand in fakes.
 */

import {
  applicationServerKey,
  forgetSubscription,
  loadPushSettings,
  registerSubscription,
  savePushSettings,
  subscriptionJson,
} from "../shared/push";
import { appPath, payloadLang, planNotification, readPayload } from "./push-payload";

/** Not in TypeScript's lib yet: what `pushsubscriptionchange` carries (where the browser fills it in). */
export interface PushSubscriptionChange {
  readonly oldSubscription?: PushSubscription | null;
  readonly newSubscription?: PushSubscription | null;
}

/** What the worker's registration offers here. */
export interface PushRegistration {
  showNotification(title: string, options?: NotificationOptions): Promise<void>;
  getNotifications(filter?: { tag?: string }): Promise<readonly unknown[]>;
  readonly pushManager: { subscribe(options: PushSubscriptionOptionsInit): Promise<PushSubscription> };
}

export interface AppWindow {
  readonly url: string;
  readonly focused: boolean;
  readonly visibilityState: string;
  focus(): Promise<AppWindow>;
  postMessage(message: unknown): void;
}

export interface AppWindows {
  matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly AppWindow[]>;
  openWindow(url: string): Promise<unknown>;
}

export const ICON = "/icons/icon-192.png";
export const BADGE = "/icons/badge-96.png";
/** Pages of the server (and the organisers' console), not of the app: never asked to show a notification's page. */
const SERVER_PAGES = /^\/(api|schema|healthz|admin)(\/|\.html$|$)/;

export async function showPush(data: { text(): string } | null, registration: PushRegistration): Promise<void> {
  const payload = readPayload(data);
  const plan = planNotification(payload);
  // Screen readers read a translated message in its own language.
  const lang = payloadLang(payload);
  // A correction replaces the notification still on screen, and says so again.
  const replacing = (await registration.getNotifications({ tag: plan.tag })).length > 0;
  await registration.showNotification(plan.title, {
    body: plan.body,
    icon: ICON,
    badge: BADGE,
    tag: plan.tag,
    renotify: replacing,
    requireInteraction: plan.requireInteraction,
    data: { url: plan.url },
    ...(lang ? { lang } : {}),
  } as NotificationOptions);
}

/** Bring an open window of the app to the notification's page, or open one there. */
export async function openFromNotification(notification: { close(): void; readonly data: unknown }, windows: AppWindows): Promise<void> {
  notification.close();
  const path = appPath((notification.data as { url?: unknown } | null)?.url) ?? "/announcements";
  const open = (await windows.matchAll({ type: "window", includeUncontrolled: true })).filter(
    (candidate) => !SERVER_PAGES.test(new URL(candidate.url).pathname),
  );
  const client = open.find((candidate) => candidate.focused) ?? open.find((candidate) => candidate.visibilityState === "visible") ?? open[0];
  if (!client) {
    await windows.openWindow(path);
    return;
  }
  // The app routes in place (no reload); focusing needs the click's user activation, so it comes first.
  const focused = await client.focus().catch(() => client);
  focused.postMessage({ type: "NAVIGATE", url: path });
}

/** The browser renewed (or dropped) the subscription: subscribe again and tell the server. */
export async function resubscribe(
  event: PushSubscriptionChange,
  registration: Pick<PushRegistration, "pushManager">,
): Promise<void> {
  const old = event.oldSubscription ?? null;
  let fresh = event.newSubscription ?? null;
  if (!fresh) {
    const key = old?.options.applicationServerKey ?? (await applicationServerKey());
    fresh = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }
  const json = subscriptionJson(fresh);
  if (!json) return;
  const settings = await loadPushSettings();
  await registerSubscription(json, settings);
  await savePushSettings(settings);
  const previous = old ? subscriptionJson(old) : null;
  if (previous && previous.endpoint !== json.endpoint) await forgetSubscription(previous).catch(() => undefined);
}

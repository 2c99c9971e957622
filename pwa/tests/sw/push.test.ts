import "fake-indexeddb/auto";
import { afterEach, describe, expect, it, vi } from "vitest";

import { registerSubscription, savePushSettings } from "../../src/shared/push";
import { BADGE, ICON, openFromNotification, resubscribe, showPush, type AppWindow, type PushRegistration } from "../../src/sw/push";

function registration(shown: { title: string; options?: NotificationOptions }[] = []): PushRegistration & { shown: typeof shown } {
  return {
    shown,
    async showNotification(title, options) {
      shown.push({ title, options });
    },
    async getNotifications(filter) {
      return shown.filter((notification) => notification.options?.tag === filter?.tag);
    },
    pushManager: {
      subscribe: vi.fn(),
    },
  };
}

const data = (value: unknown) => ({ text: () => JSON.stringify(value) });

describe("showPush", () => {
  it("shows an announcement with icon, badge, tag and the page to open", async () => {
    const worker = registration();
    await showPush(data({ type: "announcement", id: "a1", title: "Lunch", body: "On the terrace", priority: "urgent", url: "/announcements/a1" }), worker);
    expect(worker.shown).toEqual([
      {
        title: "Lunch",
        options: {
          body: "On the terrace",
          icon: ICON,
          badge: BADGE,
          tag: "announcement:a1",
          renotify: false,
          requireInteraction: true,
          data: { url: "/announcements/a1" },
        },
      },
    ]);
  });

  it("alerts again when a correction replaces a notification on screen", async () => {
    const worker = registration();
    await showPush(data({ type: "announcement", id: "a1", title: "Lunch at 12:00" }), worker);
    await showPush(data({ type: "announcement", id: "a1", title: "Lunch at 12:30" }), worker);
    expect(worker.shown.map((n) => [n.title, (n.options as { renotify?: boolean }).renotify])).toEqual([
      ["Lunch at 12:00", false],
      ["Lunch at 12:30", true],
    ]);
  });

  it("tells the browser the language of a translated message", async () => {
    const worker = registration();
    await showPush(data({ type: "announcement", id: "a2", title: "มื้อกลางวัน", lang: "th" }), worker);
    await showPush(data({ type: "announcement", id: "a3", title: "Lunch" }), worker);
    expect(worker.shown.map((n) => (n.options as { lang?: string }).lang)).toEqual(["th", undefined]);
  });

  it("shows a generic notification without a payload", async () => {
    const worker = registration();
    await showPush(null, worker);
    expect(worker.shown[0]?.title).toBe("Kumpul");
  });
});

type FakeWindow = AppWindow & { messages: unknown[]; focusCalls: number };

function window(url: string, state: Partial<AppWindow> = {}): FakeWindow {
  const client: FakeWindow = {
    url,
    focused: false,
    visibilityState: "hidden",
    messages: [] as unknown[],
    focusCalls: 0,
    async focus(): Promise<AppWindow> {
      client.focusCalls += 1;
      return client;
    },
    postMessage(message: unknown) {
      client.messages.push(message);
    },
    ...state,
  };
  return client;
}

describe("openFromNotification", () => {
  const notification = (url: unknown) => ({ close: vi.fn(), data: { url } });

  it("focuses the visible window of the app and asks it to show the page", async () => {
    const api = window("https://kumpul.example/api/programme", { focused: true });
    const hidden = window("https://kumpul.example/programme");
    const visible = window("https://kumpul.example/agenda", { visibilityState: "visible" });
    const openWindow = vi.fn();
    const clicked = notification("/announcements/a1");
    await openFromNotification(clicked, { matchAll: async () => [api, hidden, visible], openWindow });
    expect(clicked.close).toHaveBeenCalled();
    expect(visible.focusCalls).toBe(1);
    expect(visible.messages).toEqual([{ type: "NAVIGATE", url: "/announcements/a1" }]);
    expect(hidden.messages).toEqual([]);
    expect(api.messages).toEqual([]);
    expect(openWindow).not.toHaveBeenCalled();
  });

  it("opens a window when none of the app is open, and only app pages", async () => {
    const openWindow = vi.fn();
    await openFromNotification(notification("https://evil.example/"), { matchAll: async () => [], openWindow });
    expect(openWindow).toHaveBeenCalledWith("/announcements");
    await openFromNotification(notification("/sessions/s1"), { matchAll: async () => [], openWindow });
    expect(openWindow).toHaveBeenLastCalledWith("/sessions/s1");
  });
});

describe("resubscribe", () => {
  afterEach(() => vi.unstubAllGlobals());

  function subscription(endpoint: string, key?: ArrayBuffer): PushSubscription {
    return {
      endpoint,
      options: { applicationServerKey: key ?? null, userVisibleOnly: true },
      toJSON: () => ({ endpoint, keys: { p256dh: "p".repeat(87), auth: "a".repeat(22) } }),
    } as unknown as PushSubscription;
  }

  it("subscribes again with the same key, registers the new endpoint and forgets the old one", async () => {
    const requests: { method: string; url: string; body: unknown }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      requests.push({ method: init.method ?? "GET", url, body: init.body ? JSON.parse(String(init.body)) : null });
      return new Response(null, { status: init.method === "DELETE" ? 204 : 201 });
    });
    const key = new Uint8Array([4, 1, 2]).buffer;
    const worker = registration();
    vi.mocked(worker.pushManager.subscribe).mockResolvedValue(subscription("https://push.example/new"));
    await resubscribe({ oldSubscription: subscription("https://push.example/old", key) }, worker);
    expect(worker.pushManager.subscribe).toHaveBeenCalledWith({ userVisibleOnly: true, applicationServerKey: key });
    expect(requests).toEqual([
      {
        method: "POST",
        url: "/api/push/subscriptions",
        body: { endpoint: "https://push.example/new", keys: { p256dh: "p".repeat(87), auth: "a".repeat(22) }, alertSessions: [] },
      },
      // The endpoint in the body, never the URL, with the auth secret that proves the subscription is this device's.
      { method: "DELETE", url: "/api/push/subscriptions", body: { endpoint: "https://push.example/old", auth: "a".repeat(22) } },
    ]);
  });

  it("registers a renewed subscription with the attendee's language, kept where the worker reads it", async () => {
    const stored = new Map<string, Response>();
    const cache = {
      put: async (url: string, response: Response) => void stored.set(url, response),
      match: async (url: string) => stored.get(url)?.clone(),
      delete: async (url: string) => stored.delete(url),
    };
    vi.stubGlobal("caches", { open: async () => cache });
    const bodies: unknown[] = [];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      bodies.push(init.body ? JSON.parse(String(init.body)) : null);
      return new Response(null, { status: 201 });
    });
    await savePushSettings({ participation: "onsite", alertSessions: [], lang: "th" });
    const worker = registration();
    await resubscribe({ newSubscription: subscription("https://push.example/renewed") }, worker);
    expect(bodies[0]).toMatchObject({ endpoint: "https://push.example/renewed", participation: "onsite", lang: "th" });
  });

  it("leaves out a language the server would refuse", async () => {
    const bodies: unknown[] = [];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(String(init.body)));
      return new Response(null, { status: 201 });
    });
    const json = { endpoint: "https://push.example/x", keys: { p256dh: "p".repeat(87), auth: "a".repeat(22) } };
    await registerSubscription(json, { participation: null, alertSessions: [], lang: "en-XA" });
    await registerSubscription(json, { participation: null, alertSessions: [], lang: "Thai!" });
    expect(bodies[0]).toMatchObject({ lang: "en-XA" });
    expect(bodies[1]).not.toHaveProperty("lang");
  });
});

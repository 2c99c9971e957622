import { describe, expect, it } from "vitest";

import { appPath, payloadLang, planNotification, readPayload } from "../../src/sw/push-payload";

const data = (text: string) => ({ text: () => text });

describe("readPayload", () => {
  it("reads a JSON object and tolerates anything else", () => {
    expect(readPayload(data('{"type":"announcement","id":"a1"}'))).toEqual({ type: "announcement", id: "a1" });
    expect(readPayload(null)).toBeNull();
    expect(readPayload(undefined)).toBeNull();
    expect(readPayload(data(""))).toBeNull();
    expect(readPayload(data("not json"))).toBeNull();
    expect(readPayload(data("[1,2]"))).toBeNull();
    expect(readPayload(data('"text"'))).toBeNull();
    expect(readPayload(data("null"))).toBeNull();
  });
});

describe("payloadLang", () => {
  it("names the language a translated message is in, and nothing for the original or a malformed tag", () => {
    expect(payloadLang({ type: "announcement", lang: "th" })).toBe("th");
    expect(payloadLang({ type: "reminder", lang: "id-ID" })).toBe("id-ID");
    expect(payloadLang({ type: "announcement" })).toBeUndefined();
    expect(payloadLang({ lang: "<script>" })).toBeUndefined();
    expect(payloadLang(null)).toBeUndefined();
  });
});

describe("planNotification", () => {
  it("shows a reminder under the session's tag, so it replaces a change alert about the same session", () => {
    const plan = planNotification({
      type: "reminder",
      sessionId: "d2-keynote",
      title: "Opening keynote",
      body: "Moved: now starts at 10:30 in Kintamani",
      changed: true,
      url: "/sessions/d2-keynote",
    });
    expect(plan).toEqual({
      title: "Opening keynote",
      body: "Moved: now starts at 10:30 in Kintamani",
      tag: "alert:d2-keynote",
      requireInteraction: false,
      url: "/sessions/d2-keynote",
    });
    expect(planNotification({ type: "reminder", sessionId: "s1" }).title).toBe("Starting soon");
  });

  it("shows an announcement, tagged by its id so a correction replaces it", () => {
    const plan = planNotification({
      type: "announcement",
      id: "ann-1",
      title: "Plenary moved to Hall B",
      body: "From 10:30.",
      priority: "normal",
      url: "/announcements/ann-1",
    });
    expect(plan).toEqual({
      title: "Plenary moved to Hall B",
      body: "From 10:30.",
      tag: "announcement:ann-1",
      requireInteraction: false,
      url: "/announcements/ann-1",
    });
  });

  it("keeps an urgent announcement on screen and marks a cut body", () => {
    const plan = planNotification({ type: "announcement", id: "ann-2", title: "Evacuate Hall A", body: "Use the east", priority: "urgent", truncated: true });
    expect(plan.requireInteraction).toBe(true);
    expect(plan.body).toBe("Use the east…");
    expect(plan.url).toBe("/announcements/ann-2");
    expect(planNotification({ type: "announcement", id: "x", title: "t", body: "cut…", truncated: true }).body).toBe("cut…");
  });

  it("shows a session change alert, tagged by the session", () => {
    const plan = planNotification({
      type: "alert",
      sessionId: "ses-9",
      title: "Session changed",
      body: "Keynote: now Tue 23 Jul, 11:00 (WITA) in Hall B",
      status: "scheduled",
      start: "2024-07-23T03:00:00Z",
      end: "2024-07-23T04:00:00Z",
      room: "Hall B",
      url: "/sessions/ses-9",
    });
    expect(plan).toMatchObject({ title: "Session changed", tag: "alert:ses-9", url: "/sessions/ses-9", requireInteraction: false });
  });

  it("still shows something for a missing or unknown payload", () => {
    for (const payload of [null, {}, { type: "announcement" }, { type: "alert", sessionId: 5 }, { type: "poke" }]) {
      const plan = planNotification(payload);
      expect(plan.title).toBeTruthy();
      expect(plan.body).toBeTruthy();
      expect(plan.tag).toBe("kumpul");
      expect(plan.url).toBe("/announcements");
    }
  });

  it("opens only pages of the app", () => {
    for (const url of ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example", 42]) {
      expect(appPath(url)).toBeNull();
      expect(planNotification({ type: "announcement", id: "a", title: "t", url }).url).toBe("/announcements/a");
    }
    expect(appPath("/announcements/a?x=1")).toBe("/announcements/a?x=1");
  });

  it("bounds what it shows", () => {
    const plan = planNotification({ type: "announcement", id: "a", title: "T".repeat(500), body: "B".repeat(5000) });
    expect(plan.title.length).toBe(140);
    expect(plan.body.length).toBe(1000);
  });
});

import { describe, expect, it } from "vitest";

import { fitBody, MAX_PLAINTEXT, notificationPreview, oneLine } from "../../src/admin/preview";

describe("the lock-screen preview of an announcement", () => {
  it("shows a short announcement as it is, the body on one line when collapsed", () => {
    const preview = notificationPreview("Plenary moved to Hall B", "Starts 10:30.\n\nBring your badge.", "normal");
    expect(preview).toEqual({
      title: "Plenary moved to Hall B",
      line: "Starts 10:30. Bring your badge.",
      body: "Starts 10:30.\n\nBring your badge.",
      cut: false,
      sticky: false,
    });
  });

  it("keeps urgent ones on screen", () => {
    expect(notificationPreview("Evacuate Hall A", "", "urgent").sticky).toBe(true);
  });

  it("cuts the body at 1000 characters like the attendee app's service worker", () => {
    const preview = notificationPreview("Long", "word ".repeat(400), "normal");
    expect(preview.body.length).toBeLessThanOrEqual(1000);
    expect(preview.cut).toBe(true);
  });

  it("cuts the title at 140 characters", () => {
    expect(notificationPreview("T".repeat(200), "", "normal").title).toHaveLength(140);
  });

  it("cuts a body that would not fit one push message, as the server does, ending it with an ellipsis", () => {
    const body = "é".repeat(4000);
    const payload = { type: "announcement", id: "ann-1", title: "Plenary", body, priority: "normal", url: "/announcements/ann-1" };
    const fitted = fitBody(payload);
    expect(fitted.truncated).toBe(true);
    expect(fitted.body.endsWith("…")).toBe(true);
    const size = new TextEncoder().encode(JSON.stringify({ ...payload, body: fitted.body, truncated: true })).length;
    expect(size).toBeLessThanOrEqual(MAX_PLAINTEXT);
    expect(notificationPreview("Plenary", body, "normal").body.endsWith("…")).toBe(true);
  });

  it("never cuts a multi-byte character in half", () => {
    const fitted = fitBody({ type: "announcement", id: "a", title: "t", body: "ไทย".repeat(1500), priority: "normal", url: "/a" });
    expect(fitted.body).not.toMatch(/\uFFFD/);
    expect(fitted.body.replace(/…$/, "")).toMatch(/^(ไทย)*(ไ|ไท)?$/);
  });

  it("shows an empty title as the service worker does", () => {
    expect(notificationPreview("", "Body", "normal").title).toBe("Announcement");
  });

  it("collapses whitespace for one-line rows", () => {
    expect(oneLine("  a\n\tb   c \n")).toBe("a b c");
  });
});

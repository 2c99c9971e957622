import { describe, expect, it } from "vitest";

import {
  countUnread,
  excerpt,
  isBehind,
  isExpired,
  isForAttendee,
  linkify,
  mergeLive,
  safeHref,
  visibleAnnouncements,
  type AudienceContext,
  type LiveEntry,
} from "../../src/app/announce/model";
import type { Announcement } from "../../src/shared/types";

function item(id: string, extra: Partial<Announcement> = {}): Announcement {
  return {
    id,
    title: `Title ${id}`,
    body: "",
    priority: "normal",
    audience: "everyone",
    sessionId: null,
    publishedAt: "2024-07-23T02:00:00Z",
    updatedAt: "2024-07-23T02:00:00Z",
    expiresAt: null,
    ...extra,
  };
}

const everyone: AudienceContext = { participation: null, bookmarks: new Set() };

describe("linkify", () => {
  it("turns http and https URLs into links and keeps the rest as text", () => {
    expect(linkify("Map: https://example.org/map?a=1&b=2 and http://example.net")).toEqual([
      { text: "Map: " },
      { text: "https://example.org/map?a=1&b=2", href: "https://example.org/map?a=1&b=2" },
      { text: " and " },
      { text: "http://example.net", href: "http://example.net/" },
    ]);
  });

  it("leaves sentence punctuation and unmatched brackets outside the link", () => {
    expect(linkify("See https://example.org/a.")).toEqual([{ text: "See " }, { text: "https://example.org/a", href: "https://example.org/a" }, { text: "." }]);
    expect(linkify("(stream: https://example.org/live)")).toEqual([
      { text: "(stream: " },
      { text: "https://example.org/live", href: "https://example.org/live" },
      { text: ")" },
    ]);
    const wiki = linkify("https://en.wikipedia.org/wiki/Bandung_(city), ok");
    expect(wiki[0]).toEqual({ text: "https://en.wikipedia.org/wiki/Bandung_(city)", href: "https://en.wikipedia.org/wiki/Bandung_(city)" });
  });

  it("never makes markup into anything but text", () => {
    const script = "<script>alert(1)</script>";
    const image = '<img src=x onerror="alert(1)">';
    expect(linkify(script)).toEqual([{ text: script }]);
    expect(linkify(image)).toEqual([{ text: image }]);
    const mixed = linkify('<a href="https://evil.example/">click</a>');
    expect(mixed.filter((segment) => segment.href)).toEqual([{ text: "https://evil.example/", href: "https://evil.example/" }]);
    expect(mixed.map((segment) => segment.text).join("")).toBe('<a href="https://evil.example/">click</a>');
  });

  it("links only http(s)", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.org/file", "mailto:a@example.org", "vbscript:x"]) {
      expect(linkify(text).every((segment) => !segment.href), text).toBe(true);
    }
    expect(linkify("javascript:https://example.org")).toEqual([
      { text: "javascript:" },
      { text: "https://example.org", href: "https://example.org/" },
    ]);
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("https://")).toBeNull();
    expect(linkify("just https:// alone")).toEqual([{ text: "just https:// alone" }]);
  });

  it("keeps every character of the text, in order", () => {
    const text = "Room 3 stream down, use https://meet.example.org/room-3!\nBack at 14:00 (see https://x.example/p_(1)).";
    expect(
      linkify(text)
        .map((segment) => segment.text)
        .join(""),
    ).toBe(text);
  });
});

describe("audience", () => {
  it("shows on-site and online announcements to whom they concern; both to those who have not said", () => {
    const onsite = item("a", { audience: "onsite" });
    const online = item("b", { audience: "online" });
    expect(isForAttendee(onsite, everyone) && isForAttendee(online, everyone)).toBe(true);
    expect(isForAttendee(onsite, { ...everyone, participation: "onsite" })).toBe(true);
    expect(isForAttendee(online, { ...everyone, participation: "onsite" })).toBe(false);
    expect(isForAttendee(onsite, { ...everyone, participation: "online" })).toBe(false);
    expect(isForAttendee(online, { ...everyone, participation: "online" })).toBe(true);
  });

  it("shows a session's announcement only to those who bookmarked it", () => {
    const forSession = item("c", { audience: "session", sessionId: "s1" });
    expect(isForAttendee(forSession, everyone)).toBe(false);
    expect(isForAttendee(forSession, { participation: "online", bookmarks: new Set(["s1"]) })).toBe(true);
    expect(isForAttendee(item("d", { audience: "session", sessionId: null }), { participation: null, bookmarks: new Set(["s1"]) })).toBe(false);
  });

  it("treats an audience it does not know as everyone", () => {
    expect(isForAttendee(item("e", { audience: "speakers" }), everyone)).toBe(true);
    expect(isForAttendee(item("f", { audience: undefined }), everyone)).toBe(true);
  });
});

describe("visible announcements and unread count", () => {
  const now = Date.parse("2024-07-23T06:00:00Z");
  const items = [
    item("old", { publishedAt: "2024-07-23T01:00:00Z" }),
    item("new", { publishedAt: "2024-07-23T05:00:00Z" }),
    item("urgent", { priority: "urgent", publishedAt: "2024-07-23T00:30:00Z" }),
    item("expired", { expiresAt: "2024-07-23T05:59:00Z" }),
    item("later", { expiresAt: "2024-07-23T15:00:00+08:00", publishedAt: "2024-07-23T04:00:00Z" }),
    item("online-only", { audience: "online" }),
  ];

  it("pins urgent ones, then newest first, without expired ones or others' announcements", () => {
    const context: AudienceContext = { participation: "onsite", bookmarks: new Set() };
    expect(visibleAnnouncements(items, context, now).map((a) => a.id)).toEqual(["urgent", "new", "later", "old"]);
  });

  it("expires at the instant given, whatever its offset", () => {
    expect(isExpired(item("x", { expiresAt: "2024-07-23T14:00:00+08:00" }), now)).toBe(true);
    expect(isExpired(item("x", { expiresAt: "2024-07-23T14:00:01+08:00" }), now)).toBe(false);
    expect(isExpired(item("x", { expiresAt: "not a time" }), now)).toBe(false);
  });

  it("counts what is visible and not read", () => {
    const visible = visibleAnnouncements(items, everyone, now);
    const read = new Set(["new", "expired"]);
    expect(countUnread(visible, (id) => read.has(id))).toBe(4);
    expect(countUnread(visible, () => true)).toBe(0);
    expect(countUnread([], () => false)).toBe(0);
  });
});

describe("live events and the stored programme", () => {
  const stored = [item("a"), item("b")];

  it("adds a live announcement until the stored programme has caught up, without duplicates", () => {
    const live = new Map<string, LiveEntry>([["c", { cursor: "e1.11", announcement: item("c") }]]);
    expect(mergeLive(stored, "e1.10", live).map((a) => a.id)).toEqual(["a", "b", "c"]);
    expect(mergeLive([...stored, item("c", { title: "stored" })], "e1.11", live).map((a) => `${a.id}:${a.title}`)).toEqual([
      "a:Title a",
      "b:Title b",
      "c:stored",
    ]);
  });

  it("applies corrections and retractions the stored programme has not seen", () => {
    const live = new Map<string, LiveEntry>([
      ["a", { cursor: "e1.12", announcement: item("a", { title: "Corrected" }) }],
      ["b", { cursor: "e1.13", announcement: null }],
    ]);
    expect(mergeLive(stored, "e1.10", live).map((a) => a.title)).toEqual(["Corrected"]);
    expect(mergeLive(stored, "e1.13", live).map((a) => a.title)).toEqual(["Title a", "Title b"]);
  });

  it("compares cursors by sequence within an epoch", () => {
    expect(isBehind("e1.9", "e1.10")).toBe(true);
    expect(isBehind("e1.10", "e1.10")).toBe(false);
    expect(isBehind("e1.11", "e1.10")).toBe(false);
    expect(isBehind(null, "e1.10")).toBe(true);
    expect(isBehind("e0.50", "e1.10")).toBe(true);
  });
});

describe("excerpt", () => {
  it("keeps short texts and cuts long ones at a word", () => {
    expect(excerpt("  Lunch\n\nis  served ")).toBe("Lunch is served");
    const long = "word ".repeat(60);
    const cut = excerpt(long, 40);
    expect(cut.endsWith("word…")).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(41);
  });
});

import { describe, expect, it } from "vitest";

import { applyChanges, casefold, compareCodePoints, instant, normaliseProgramme, sortCollection } from "../../src/shared/feed";
import type { Change, Programme } from "../../src/shared/types";
import { session, smallProgramme } from "../fixtures";

describe("instant", () => {
  it("reads moments with any UTC offset as the same instant", () => {
    expect(instant("2024-07-23T09:00:00+08:00")).toBe(instant("2024-07-23T01:00:00Z"));
    expect(instant("2024-07-23T08:00:00+07:00")).toBe(instant("2024-07-23T01:00:00+00:00"));
    expect(instant("2024-07-23T09:00:00+0800")).toBe(instant("2024-07-23T01:00:00Z"));
  });

  it("reads a moment without offset as UTC and anything unreadable as 0, like the server", () => {
    expect(instant("2024-07-23T09:00:00")).toBe(Date.UTC(2024, 6, 23, 9));
    expect(instant("not a date")).toBe(0);
    expect(instant(undefined)).toBe(0);
  });
});

describe("sortCollection", () => {
  it("orders rooms, tracks and formats by position, then case-folded name, then id", () => {
    const rooms = [
      { id: "r3", name: "beta", position: 1 },
      { id: "r2", name: "Alpha", position: 1 },
      { id: "r1", name: "Zeta", position: 0 },
      { id: "r0", name: "alpha", position: 1 },
    ];
    expect(sortCollection("room", rooms).map((room) => room.id)).toEqual(["r1", "r0", "r2", "r3"]);
  });

  it("orders speakers by case-folded name, then id", () => {
    const speakers = [
      { id: "s2", name: "straße" },
      { id: "s1", name: "STRASSE" },
      { id: "s3", name: "Ayu" },
    ];
    expect(sortCollection("speaker", speakers).map((speaker) => speaker.id)).toEqual(["s3", "s1", "s2"]);
  });

  it("orders sessions by start instant, end instant and id across UTC offsets", () => {
    const sessions = [
      // 10:30 in Makassar, written in UTC.
      session("c", "2024-07-23T02:30:00+00:00", "2024-07-23T03:00:00+00:00"),
      // 09:00 in Makassar, written in Bangkok time: the same instant as "b" and "a".
      session("z", "2024-07-23T08:00:00+07:00", "2024-07-23T09:00:00+07:00"),
      session("b", "2024-07-23T09:00:00+08:00", "2024-07-23T10:30:00+08:00"),
      session("a", "2024-07-23T09:00:00+08:00", "2024-07-23T10:30:00+08:00"),
    ];
    // A string sort would put "c" (02:30) first and "z" (08:00) before "b".
    expect(sortCollection("session", sessions).map((item) => item.id)).toEqual(["z", "a", "b", "c"]);
  });

  it("compares by code point as Python does", () => {
    expect(compareCodePoints("\u{1F600}", "\uFF21")).toBe(1);
    expect("\u{1F600}" < "\uFF21").toBe(true);
    expect(casefold("Straße")).toBe("strasse");
  });
});

describe("applyChanges", () => {
  const changes: Change[] = [
    { type: "session", id: "late", seq: 11, data: { ...session("late", "2024-07-23T08:00:00+08:00", "2024-07-23T08:30:00+08:00"), roomId: "room-b" } },
    { type: "session", id: "new", seq: 12, data: { ...session("new", "2024-07-23T02:00:00Z", "2024-07-23T03:00:00Z") } },
    { type: "speaker", id: "spk-b", seq: 13, deleted: true },
    { type: "room", id: "room-c", seq: 14, data: { id: "room-c", name: "Annex", position: -1 } },
    { type: "event", id: "event", seq: 15, data: { name: "Renamed", timeZone: "Asia/Makassar", startDate: "2024-07-23", endDate: "2024-07-24" } },
  ];

  it("upserts, deletes and re-sorts, giving the newer snapshot", () => {
    const before = smallProgramme();
    const after = applyChanges(before, changes, "aaaaaaaaaaaa.15");
    expect(after.cursor).toBe("aaaaaaaaaaaa.15");
    expect(after.event?.name).toBe("Renamed");
    expect(after.sessions.map((item) => item.id)).toEqual(["late", "early", "new"]);
    expect(after.sessions[0]!.roomId).toBe("room-b");
    expect(after.speakers.map((item) => item.id)).toEqual(["spk-a"]);
    expect(after.rooms.map((item) => item.id)).toEqual(["room-c", "room-a", "room-b"]);
  });

  it("equals the snapshot the server would build from the same entities", () => {
    const after = applyChanges(smallProgramme(), changes, "aaaaaaaaaaaa.15");
    const expected = normaliseProgramme({
      ...smallProgramme("aaaaaaaaaaaa.15"),
      event: changes[4]!.data as unknown as Programme["event"],
      rooms: [...smallProgramme().rooms, changes[3]!.data as never],
      speakers: [{ id: "spk-a", name: "Ayu Pratiwi" }],
      sessions: [smallProgramme().sessions[1]!, changes[0]!.data as never, changes[1]!.data as never],
    });
    expect(after).toEqual(expected);
  });

  it("leaves the input untouched", () => {
    const before = smallProgramme();
    const copy = structuredClone(before);
    applyChanges(before, changes, "aaaaaaaaaaaa.15");
    expect(before).toEqual(copy);
  });

  it("applies later records over earlier ones and tolerates deleting what is gone", () => {
    const after = applyChanges(
      smallProgramme(),
      [
        { type: "session", id: "early", seq: 11, deleted: true },
        { type: "session", id: "early", seq: 12, data: { ...session("early", "2024-07-24T09:00:00+08:00", "2024-07-24T10:00:00+08:00") } },
        { type: "session", id: "ghost", seq: 13, deleted: true },
        { type: "event", id: "event", seq: 14, deleted: true },
      ],
      "aaaaaaaaaaaa.14",
    );
    expect(after.sessions.map((item) => [item.id, item.start])).toEqual([
      ["late", "2024-07-23T11:00:00+08:00"],
      ["early", "2024-07-24T09:00:00+08:00"],
    ]);
    expect(after.event).toBeNull();
  });

  it("skips kinds it does not know, so an older app survives a newer server", () => {
    const after = applyChanges(smallProgramme(), [{ type: "poll", id: "p1", seq: 11, data: { id: "p1" } }], "aaaaaaaaaaaa.11");
    expect(after).toEqual(normaliseProgramme({ ...smallProgramme(), cursor: "aaaaaaaaaaaa.11" }));
  });

  it("keeps announcements, newest first, once the feed carries them", () => {
    const after = applyChanges(
      smallProgramme(),
      [
        { type: "announcement", id: "n1", seq: 11, data: { id: "n1", title: "Old", publishedAt: "2024-07-23T08:00:00+08:00" } },
        { type: "announcement", id: "n2", seq: 12, data: { id: "n2", title: "New", publishedAt: "2024-07-23T09:00:00+08:00" } },
      ],
      "aaaaaaaaaaaa.12",
    );
    expect(after.announcements.map((item) => item.id)).toEqual(["n2", "n1"]);
  });

  it("refuses an upsert without data", () => {
    expect(() => applyChanges(smallProgramme(), [{ type: "session", id: "x", seq: 11 }], "aaaaaaaaaaaa.11")).toThrow(/no data/);
  });
});

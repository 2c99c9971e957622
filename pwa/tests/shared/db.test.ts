import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import {
  addBookmark,
  closeDb,
  getCursor,
  getProgramme,
  getSyncedAt,
  listBookmarks,
  putChanges,
  putProgramme,
  removeBookmark,
} from "../../src/shared/db";
import { applyChanges, normaliseProgramme } from "../../src/shared/feed";
import type { Change } from "../../src/shared/types";
import { session, smallProgramme } from "../fixtures";

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

describe("programme storage", () => {
  it("has nothing before the first download", async () => {
    expect(await getProgramme()).toBeNull();
    expect(await getCursor()).toBeNull();
  });

  it("stores a snapshot and reads it back in snapshot order, also after reopening", async () => {
    await putProgramme(smallProgramme(), 1_000);
    await closeDb();
    const stored = await getProgramme();
    expect(stored).toEqual(normaliseProgramme(smallProgramme()));
    expect(stored!.sessions.map((item) => item.id)).toEqual(["early", "late"]);
    expect(await getSyncedAt()).toBe(1_000);
  });

  it("replaces, not merges, on a new snapshot", async () => {
    await putProgramme(smallProgramme());
    await putProgramme({ ...smallProgramme("bbbbbbbbbbbb.1"), sessions: [], speakers: [] });
    const stored = await getProgramme();
    expect(stored!.cursor).toBe("bbbbbbbbbbbb.1");
    expect(stored!.sessions).toEqual([]);
    expect(stored!.speakers).toEqual([]);
  });
});

describe("putChanges", () => {
  const changes: Change[] = [
    { type: "session", id: "early", seq: 11, data: { ...session("early", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00"), roomId: "room-b" } },
    { type: "session", id: "late", seq: 12, deleted: true },
    { type: "speaker", id: "spk-c", seq: 13, data: { id: "spk-c", name: "Chen Wei" } },
    { type: "event", id: "event", seq: 14, data: { ...smallProgramme().event!, name: "Renamed" } },
  ];

  it("applies upserts and tombstones like applyChanges does in memory", async () => {
    await putProgramme(smallProgramme());
    expect(await putChanges("aaaaaaaaaaaa.10", changes, "aaaaaaaaaaaa.14", 5_000)).toBe(true);
    const stored = await getProgramme();
    expect(stored).toEqual(applyChanges(normaliseProgramme(smallProgramme()), changes, "aaaaaaaaaaaa.14"));
    expect(stored!.sessions.map((item) => [item.id, item.roomId])).toEqual([["early", "room-b"]]);
    expect(await getSyncedAt()).toBe(5_000);
  });

  it("writes nothing when the stored cursor moved on meanwhile", async () => {
    await putProgramme(smallProgramme());
    expect(await putChanges("aaaaaaaaaaaa.9", changes, "aaaaaaaaaaaa.14")).toBe(false);
    expect(await getProgramme()).toEqual(normaliseProgramme(smallProgramme()));
  });

  it("rolls back a page with an upsert that carries no data", async () => {
    await putProgramme(smallProgramme());
    await expect(
      putChanges("aaaaaaaaaaaa.10", [changes[1]!, { type: "session", id: "x", seq: 12 }], "aaaaaaaaaaaa.12"),
    ).rejects.toThrow(/no data/);
    expect(await getProgramme()).toEqual(normaliseProgramme(smallProgramme()));
  });
});

describe("bookmarks", () => {
  it("are kept across restarts, oldest first, and can be removed", async () => {
    await addBookmark("late", 2);
    await addBookmark("early", 1);
    await addBookmark("late", 3);
    await closeDb();
    expect(await listBookmarks()).toEqual(["early", "late"]);
    await removeBookmark("early");
    await closeDb();
    expect(await listBookmarks()).toEqual(["late"]);
  });

  it("survive a new programme snapshot", async () => {
    await addBookmark("early");
    await putProgramme(smallProgramme("bbbbbbbbbbbb.1"));
    expect(await listBookmarks()).toEqual(["early"]);
  });
});


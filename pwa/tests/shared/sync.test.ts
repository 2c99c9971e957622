import "fake-indexeddb/auto";
import { gzipSync } from "node:zlib";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { addBookmark, closeDb, getProgramme, listBookmarks, putProgramme } from "../../src/shared/db";
import { HttpError } from "../../src/shared/http";
import { syncProgramme } from "../../src/shared/sync";
import type { ChangesPage, Programme } from "../../src/shared/types";
import { session, smallProgramme } from "../fixtures";

type Answer = { status: number; body?: unknown; gzip?: boolean };

/** A fake server: answers by path, records what was asked. */
function server(routes: Record<string, Answer | Answer[]>) {
  const asked: string[] = [];
  const fetch = async (url: string) => {
    asked.push(url);
    const route = routes[url];
    const answer = Array.isArray(route) ? route.shift() : route;
    if (!answer) return new Response("not found", { status: 404 });
    if (answer.gzip) return new Response(gzipSync(JSON.stringify(answer.body)), { status: answer.status, headers: { "Content-Type": "application/gzip" } });
    return new Response(JSON.stringify(answer.body ?? {}), { status: answer.status, headers: { "Content-Type": "application/json" } });
  };
  return { asked, fetch };
}

const page = (changes: ChangesPage["changes"], cursor: string, more = false): Answer => ({ status: 200, body: { changes, cursor, more } });

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

describe("syncProgramme", () => {
  it("downloads and stores the whole programme on the first visit", async () => {
    const { asked, fetch } = server({ "/api/programme/at/current": { status: 200, body: smallProgramme(), gzip: true } });
    expect(await syncProgramme({ fetch })).toBe("snapshot");
    expect(asked).toEqual(["/api/programme/at/current"]);
    expect((await getProgramme())!.sessions.map((item) => item.id)).toEqual(["early", "late"]);
  });

  it("then follows the change feed from its cursor, page by page", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const moved = { ...session("late", "2024-07-23T11:00:00+08:00", "2024-07-23T12:00:00+08:00"), roomId: "room-b" };
    const { asked, fetch } = server({
      "/api/changes?since=aaaaaaaaaaaa.10": page([{ type: "session", id: "late", seq: 11, data: moved }], "aaaaaaaaaaaa.11", true),
      "/api/changes?since=aaaaaaaaaaaa.11": page([{ type: "session", id: "early", seq: 12, deleted: true }], "aaaaaaaaaaaa.12"),
    });
    expect(await syncProgramme({ fetch })).toBe("changes");
    expect(asked).toEqual(["/api/changes?since=aaaaaaaaaaaa.10", "/api/changes?since=aaaaaaaaaaaa.11"]);
    const stored = (await getProgramme())!;
    expect(stored.cursor).toBe("aaaaaaaaaaaa.12");
    expect(stored.sessions.map((item) => [item.id, item.roomId])).toEqual([["late", "room-b"]]);
  });

  it("sends a live poke's cursor along, on every page, so whichever server answers includes the change", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const moved = { ...session("late", "2024-07-23T11:00:00+08:00", "2024-07-23T12:00:00+08:00"), roomId: "room-b" };
    const { asked, fetch } = server({
      "/api/changes?since=aaaaaaaaaaaa.10&atLeast=aaaaaaaaaaaa.11": page([{ type: "session", id: "late", seq: 11, data: moved }], "aaaaaaaaaaaa.11"),
    });
    expect(await syncProgramme({ fetch, atLeast: "aaaaaaaaaaaa.11" })).toBe("changes");
    expect(asked).toEqual(["/api/changes?since=aaaaaaaaaaaa.10&atLeast=aaaaaaaaaaaa.11"]);
    expect((await getProgramme())!.cursor).toBe("aaaaaaaaaaaa.11");
  });

  it("reports nothing new when the feed is empty", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const { fetch } = server({ "/api/changes?since=aaaaaaaaaaaa.10": page([], "aaaaaaaaaaaa.10") });
    expect(await syncProgramme({ fetch })).toBe("current");
  });

  it("refetches the whole programme on 410 and keeps bookmarks", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    await addBookmark("early");
    const fresh: Programme = { ...smallProgramme("bbbbbbbbbbbb.3"), sessions: [session("only", "2024-07-24T09:00:00+08:00", "2024-07-24T10:00:00+08:00")] };
    const { asked, fetch } = server({
      "/api/changes?since=aaaaaaaaaaaa.10": { status: 410, body: { detail: "gone" } },
      "/api/programme/at/current": { status: 200, body: fresh, gzip: true },
    });
    expect(await syncProgramme({ fetch })).toBe("snapshot");
    expect(asked).toEqual(["/api/changes?since=aaaaaaaaaaaa.10", "/api/programme/at/current"]);
    const stored = (await getProgramme())!;
    expect(stored.cursor).toBe("bbbbbbbbbbbb.3");
    expect(stored.sessions.map((item) => item.id)).toEqual(["only"]);
    expect(await listBookmarks()).toEqual(["early"]);
  });

  it("refetches when the server cannot read the cursor (400)", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const { fetch } = server({
      "/api/changes?since=aaaaaaaaaaaa.10": { status: 400 },
      "/api/programme/at/current": { status: 200, body: smallProgramme("cccccccccccc.1"), gzip: true },
    });
    expect(await syncProgramme({ fetch })).toBe("snapshot");
    expect((await getProgramme())!.cursor).toBe("cccccccccccc.1");
  });

  it("fails on a server error and keeps the device's copy", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const { fetch } = server({ "/api/changes?since=aaaaaaaaaaaa.10": { status: 503 } });
    await expect(syncProgramme({ fetch })).rejects.toBeInstanceOf(HttpError);
    expect((await getProgramme())!.cursor).toBe("aaaaaaaaaaaa.10");
  });

  it("fails offline and keeps the device's copy", async () => {
    await putProgramme(smallProgramme("aaaaaaaaaaaa.10"));
    const fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    await expect(syncProgramme({ fetch })).rejects.toThrow("Failed to fetch");
    expect(await getProgramme()).not.toBeNull();
  });
});

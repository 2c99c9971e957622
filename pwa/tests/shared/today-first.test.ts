/** A first visit fetches today's part of the programme, shows it, and then the whole replaces it. */
import "fake-indexeddb/auto";
import { gzipSync } from "node:zlib";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { closeDb, getCursor, getPartialProgramme, getProgramme, type PartialProgramme } from "../../src/shared/db";
import { syncProgramme } from "../../src/shared/sync";
import type { Programme } from "../../src/shared/types";
import { session, smallProgramme } from "../fixtures";

const TODAY = "/api/programme/at/current/today";
const WHOLE = "/api/programme/at/current";
const DAY_ADDRESS = "/api/programme/at/aaaaaaaaaaaa.10/day/2024-07-23";
/** 10:00 on 23 July 2024 in Makassar (UTC+8). */
const DURING = Date.parse("2024-07-23T02:00:00Z");

type Answer = { status: number; body?: unknown; location?: string };

/** A fake server answering by path (gzip files for 200s), recording what was asked, in order. */
function server(routes: Record<string, Answer | (() => Promise<Answer>)>) {
  const asked: string[] = [];
  const fetch = async (url: string) => {
    asked.push(url);
    const route = routes[url];
    const answer = typeof route === "function" ? await route() : route;
    if (!answer) return new Response("not found", { status: 404 });
    const response =
      answer.status === 200
        ? new Response(gzipSync(JSON.stringify(answer.body)), {
            status: 200,
            headers: { "Content-Type": "application/gzip", ...(answer.location ? { "Content-Location": answer.location } : {}) },
          })
        : new Response(JSON.stringify(answer.body ?? {}), { status: answer.status });
    return response;
  };
  return { asked, fetch };
}

/** The demo day's part: only the first day's sessions and the speakers they name. */
function todaysPart(): Programme {
  const whole = wholeProgramme();
  return { ...whole, sessions: whole.sessions.filter((item) => item.start.startsWith("2024-07-23")), speakers: [{ id: "spk-a", name: "Ayu Pratiwi" }] };
}

function wholeProgramme(): Programme {
  const programme = smallProgramme("aaaaaaaaaaaa.10");
  return { ...programme, sessions: [...programme.sessions, session("tomorrow", "2024-07-24T09:00:00+08:00", "2024-07-24T10:00:00+08:00")] };
}

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

describe("a first visit during the event", () => {
  it("shows today's part first, keeps it apart from the snapshot, then stores the whole in its place", async () => {
    const shown: PartialProgramme[] = [];
    let releaseWhole!: () => void;
    const wholeAsked = new Promise<void>((resolve) => (releaseWhole = resolve));
    let partWhileWholeDownloads: { cursor: string | null; programme: Programme | null; part: PartialProgramme | null } | null = null;
    const { asked, fetch } = server({
      [TODAY]: { status: 200, body: todaysPart(), location: DAY_ADDRESS },
      [WHOLE]: async () => {
        partWhileWholeDownloads = { cursor: await getCursor(), programme: await getProgramme(), part: await getPartialProgramme() };
        releaseWhole();
        return { status: 200, body: wholeProgramme() };
      },
    });
    const outcome = syncProgramme({ fetch, now: () => DURING, onPart: (part) => shown.push(part) });
    await wholeAsked;
    expect(await outcome).toBe("snapshot");
    expect(asked).toEqual([TODAY, WHOLE]);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.day).toBe("2024-07-23");
    expect(shown[0]!.programme.sessions.map((item) => item.id)).toEqual(["early", "late"]);
    // While the whole downloads, the part is kept (a reload shows it) but never taken as the programme.
    expect(partWhileWholeDownloads).toEqual({ cursor: null, programme: null, part: shown[0] });
    // Once the whole is stored, the part is gone and the feed follows from the whole's cursor.
    expect((await getProgramme())!.sessions.map((item) => item.id)).toEqual(["early", "late", "tomorrow"]);
    expect(await getPartialProgramme()).toBeNull();
    expect(await getCursor()).toBe("aaaaaaaaaaaa.10");
  });

  it("downloads only the whole when today is not an event day (404)", async () => {
    const shown: PartialProgramme[] = [];
    const { asked, fetch } = server({
      [TODAY]: { status: 404, body: { detail: "2024-07-30 is not one of the event's days" } },
      [WHOLE]: { status: 200, body: wholeProgramme() },
    });
    expect(await syncProgramme({ fetch, now: () => DURING, onPart: (part) => shown.push(part) })).toBe("snapshot");
    expect(asked).toEqual([TODAY, WHOLE]);
    expect(shown).toEqual([]);
    expect((await getProgramme())!.sessions).toHaveLength(3);
    expect(await getPartialProgramme()).toBeNull();
  });

  it("downloads only the whole when the part fails, and the whole alone when not asked for the part", async () => {
    const failing = server({ [TODAY]: { status: 500 }, [WHOLE]: { status: 200, body: wholeProgramme() } });
    expect(await syncProgramme({ fetch: failing.fetch, now: () => DURING, onPart: () => undefined })).toBe("snapshot");
    expect(failing.asked).toEqual([TODAY, WHOLE]);
    await closeDb();
    globalThis.indexedDB = new IDBFactory();
    const background = server({ [WHOLE]: { status: 200, body: wholeProgramme() } });
    expect(await syncProgramme({ fetch: background.fetch })).toBe("snapshot");
    expect(background.asked).toEqual([WHOLE]);
  });

  it("after a reload mid-download shows the kept part again without fetching it, and never follows changes from it", async () => {
    const interrupted = server({
      [TODAY]: { status: 200, body: todaysPart(), location: DAY_ADDRESS },
      [WHOLE]: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(syncProgramme({ fetch: interrupted.fetch, now: () => DURING, onPart: () => undefined })).rejects.toThrow("Failed to fetch");
    const kept = await getPartialProgramme();
    expect(kept?.programme.sessions.map((item) => item.id)).toEqual(["early", "late"]);
    expect(await getProgramme()).toBeNull();
    expect(await getCursor()).toBeNull();

    await closeDb(); // the page reloads
    const shown: PartialProgramme[] = [];
    const again = server({ [WHOLE]: { status: 200, body: wholeProgramme() } });
    expect(await syncProgramme({ fetch: again.fetch, now: () => DURING, onPart: (part) => shown.push(part) })).toBe("snapshot");
    expect(again.asked).toEqual([WHOLE]);
    expect(shown.map((part) => part.day)).toEqual(["2024-07-23"]);
    expect(await getPartialProgramme()).toBeNull();
  });

  it("fetches the part again when the kept one is another day's", async () => {
    const first = server({
      [TODAY]: { status: 200, body: todaysPart(), location: DAY_ADDRESS },
      [WHOLE]: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(syncProgramme({ fetch: first.fetch, now: () => DURING, onPart: () => undefined })).rejects.toThrow();
    const nextDay = DURING + 24 * 3600_000;
    const tomorrowPart = { ...wholeProgramme(), sessions: [session("tomorrow", "2024-07-24T09:00:00+08:00", "2024-07-24T10:00:00+08:00")], speakers: [] };
    const shown: PartialProgramme[] = [];
    const second = server({
      [TODAY]: { status: 200, body: tomorrowPart, location: "/api/programme/at/aaaaaaaaaaaa.10/day/2024-07-24" },
      [WHOLE]: { status: 200, body: wholeProgramme() },
    });
    expect(await syncProgramme({ fetch: second.fetch, now: () => nextDay, onPart: (part) => shown.push(part) })).toBe("snapshot");
    expect(second.asked).toEqual([TODAY, WHOLE]);
    expect(shown.map((part) => [part.day, part.programme.sessions.map((item) => item.id)])).toEqual([["2024-07-24", ["tomorrow"]]]);
  });

  it("forgets a part kept from an earlier day once today is not an event day", async () => {
    const first = server({
      [TODAY]: { status: 200, body: todaysPart(), location: DAY_ADDRESS },
      [WHOLE]: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(syncProgramme({ fetch: first.fetch, now: () => DURING, onPart: () => undefined })).rejects.toThrow();
    expect(await getPartialProgramme()).not.toBeNull();
    const afterwards = server({
      [TODAY]: { status: 404, body: { detail: "not one of the event's days" } },
      [WHOLE]: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    const shown: PartialProgramme[] = [];
    await expect(syncProgramme({ fetch: afterwards.fetch, now: () => DURING + 7 * 24 * 3600_000, onPart: (part) => shown.push(part) })).rejects.toThrow();
    expect(shown).toEqual([]);
    expect(await getPartialProgramme()).toBeNull();
  });
});

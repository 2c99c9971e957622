import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { HttpError, TimeoutError, getResumable, gunzipJson } from "../../src/shared/http";

const WHOLE = new Uint8Array(Array.from({ length: 1000 }, (_, i) => i % 251));
const ETAG = '"p1-aaaaaaaaaaaa.7-gz"';
const ADDRESS = "/api/programme/at/aaaaaaaaaaaa.7";

interface Asked {
  url: string;
  range: string | null;
  ifRange: string | null;
}

/**
 * A fake server for immutable bytes: the current address redirects (its Response carries the final
 * url); each connection sends `perConnection` bytes and then stalls until aborted, as bad wifi does.
 */
function flakyServer(perConnection: number, options: { gone?: number; etag?: string } = {}) {
  const asked: Asked[] = [];
  let gone = options.gone ?? 0;
  const fetch = async (url: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    asked.push({ url, range: headers.get("Range"), ifRange: headers.get("If-Range") });
    if (url === ADDRESS && gone > 0) {
      gone--;
      return new Response("{}", { status: 410 });
    }
    const etag = options.etag ?? ETAG;
    const match = /^bytes=(\d+)-$/.exec(headers.get("Range") ?? "");
    const partial = match !== null && headers.get("If-Range") === etag;
    const start = partial ? Number(match![1]) : 0;
    const slice = WHOLE.slice(start, start + perConnection);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(slice);
        if (start + slice.length >= WHOLE.length) controller.close();
        init?.signal?.addEventListener("abort", () => controller.error(init.signal!.reason));
      },
    });
    const response = new Response(body, {
      status: partial ? 206 : 200,
      headers: {
        ETag: etag,
        ...(partial ? { "Content-Range": `bytes ${start}-${WHOLE.length - 1}/${WHOLE.length}` } : { "Content-Length": String(WHOLE.length) }),
      },
    });
    Object.defineProperty(response, "url", { value: ADDRESS });
    return response;
  };
  return { asked, fetch };
}

describe("getResumable", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("gives up on a connection only when it stalls, however long the whole download takes", async () => {
    // A slow link: one byte every second for 20 seconds, never quiet for the 8 s stall limit.
    const bytes = WHOLE.slice(0, 20);
    let opened = 0;
    const fetch = async (_url: string, init?: RequestInit) => {
      opened++;
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          init?.signal?.addEventListener("abort", () => controller.error(init.signal!.reason));
          for (const byte of bytes) {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            controller.enqueue(new Uint8Array([byte]));
          }
          controller.close();
        },
      });
      return new Response(body, { headers: { "Content-Length": String(bytes.length) } });
    };
    const progress: number[] = [];
    const download = getResumable("/api/programme/at/current", { fetch, stallMs: 8_000, onProgress: (received) => progress.push(received) });
    await vi.advanceTimersByTimeAsync(21_000);
    expect((await download).bytes).toEqual(bytes);
    expect(opened).toBe(1);
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("resumes a stalled download where it stopped, with Range and If-Range", async () => {
    const { asked, fetch } = flakyServer(300);
    const progress: [number, number | null][] = [];
    const download = getResumable("/api/programme/at/current", { fetch, stallMs: 8_000, onProgress: (received, total) => progress.push([received, total]) });
    await vi.advanceTimersByTimeAsync(3 * 8_000);
    const { bytes, url } = await download;
    expect(bytes).toEqual(WHOLE);
    expect(url).toBe(ADDRESS);
    expect(asked).toEqual([
      { url: "/api/programme/at/current", range: null, ifRange: null },
      { url: ADDRESS, range: "bytes=300-", ifRange: ETAG },
      { url: ADDRESS, range: "bytes=600-", ifRange: ETAG },
      { url: ADDRESS, range: "bytes=900-", ifRange: ETAG },
    ]);
    expect(progress).toEqual([
      [300, 1000],
      [600, 1000],
      [900, 1000],
      [1000, 1000],
    ]);
  });

  it("starts again at the current address when the cursor's bytes are gone", async () => {
    const { asked, fetch } = flakyServer(600, { gone: 1 });
    const download = getResumable("/api/programme/at/current", { fetch, stallMs: 8_000 });
    await vi.advanceTimersByTimeAsync(3 * 8_000);
    expect((await download).bytes).toEqual(WHOLE);
    expect(asked.map((ask) => [ask.url, ask.range])).toEqual([
      ["/api/programme/at/current", null],
      [ADDRESS, "bytes=600-"],
      ["/api/programme/at/current", null],
      [ADDRESS, "bytes=600-"],
    ]);
  });

  it("gives up with a TimeoutError after too many stalls, and at once on an error status", async () => {
    const { fetch } = flakyServer(10);
    const stalled = getResumable("/api/programme/at/current", { fetch, stallMs: 1_000, maxResumes: 2 });
    const outcome = expect(stalled).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(3_000);
    await outcome;
    const failing = async () => new Response("{}", { status: 503 });
    await expect(getResumable("/api/programme/at/current", { fetch: failing })).rejects.toBeInstanceOf(HttpError);
    const offline = async () => {
      throw new TypeError("Failed to fetch");
    };
    await expect(getResumable("/api/programme/at/current", { fetch: offline })).rejects.toThrow("Failed to fetch");
  });
});

describe("gunzipJson", () => {
  it("reads the JSON document in gzip bytes", async () => {
    const document = { cursor: "aaaaaaaaaaaa.7", sessions: [{ id: "s-1", title: "Ünïcode ✓" }] };
    expect(await gunzipJson(new Uint8Array(gzipSync(JSON.stringify(document))))).toEqual(document);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { HttpError, TimeoutError, backoffDelay, getJson, timeoutFor } from "../../src/shared/http";

describe("getJson", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("abandons a request that hangs after the timeout", async () => {
    let signal: AbortSignal | undefined;
    const fetch = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        signal = init?.signal ?? undefined;
        signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    const result = getJson("/api/changes?since=x", { fetch, timeoutMs: 5_000 });
    const outcome = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal?.aborted).toBe(true);
    await outcome;
  });

  it("returns the JSON of a prompt answer and clears its timer", async () => {
    const fetch = async () => new Response('{"ok":true}', { status: 200 });
    await expect(getJson("/api/programme", { fetch })).resolves.toEqual({ ok: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("turns an error status into HttpError with the status", async () => {
    const fetch = async () => new Response("gone", { status: 410 });
    await expect(getJson("/api/changes?since=x", { fetch })).rejects.toMatchObject({ name: "HttpError", status: 410 });
    await expect(getJson("/api/changes?since=x", { fetch })).rejects.toBeInstanceOf(HttpError);
  });

  it("passes an offline failure through", async () => {
    const fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    await expect(getJson("/api/programme", { fetch })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("backoffDelay", () => {
  it("doubles per attempt up to the cap", () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, { baseMs: 1_000, maxMs: 10_000, random: top }))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000,
    ]);
    expect(backoffDelay(50, { baseMs: 1_000, maxMs: 10_000, random: top })).toBe(10_000);
  });

  it("spreads retries over the upper half of the delay", () => {
    expect(backoffDelay(3, { baseMs: 1_000, random: () => 0 })).toBe(4_000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(3, { baseMs: 1_000 });
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });
});

describe("timeoutFor", () => {
  it("starts at about five seconds and grows for slow links, with a ceiling", () => {
    expect([0, 1, 2, 3, 9].map((attempt) => timeoutFor(attempt))).toEqual([5_000, 10_000, 20_000, 20_000, 20_000]);
  });
});

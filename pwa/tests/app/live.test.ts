import { describe, expect, it } from "vitest";

import { LIVE_URL, liveRetryDelay, probeLive, retryAfterMs } from "../../src/app/live-retry";

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    expect(retryAfterMs("30")).toBe(30_000);
    expect(retryAfterMs(new Date(1_000_000 + 12_000).toUTCString(), 1_000_000)).toBe(12_000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs("soon")).toBeNull();
  });

  it("holds a strange value to a quarter of an hour", () => {
    expect(retryAfterMs("86400")).toBe(15 * 60_000);
    expect(retryAfterMs("-5")).toBe(0);
  });
});

describe("liveRetryDelay", () => {
  it("waits at least what the server asked, even on the first failure", () => {
    for (const random of [0, 0.5, 0.999]) {
      const delay = liveRetryDelay(0, 30_000, () => random);
      expect(delay).toBeGreaterThanOrEqual(30_000);
      expect(delay).toBeLessThanOrEqual(37_500);
    }
  });

  it("spreads a venue refused at once over the window", () => {
    expect(liveRetryDelay(0, 30_000, () => 0)).not.toBe(liveRetryDelay(0, 30_000, () => 0.9));
  });

  it("backs off exponentially when the server said nothing", () => {
    expect(liveRetryDelay(0, null, () => 0.999)).toBeLessThanOrEqual(3_000);
    expect(liveRetryDelay(5, null, () => 0)).toBeGreaterThanOrEqual(48_000);
    expect(liveRetryDelay(20, null, () => 0.999)).toBeLessThanOrEqual(120_000);
  });

  it("keeps backing off when the backoff is longer than Retry-After", () => {
    expect(liveRetryDelay(6, 1_000, () => 0)).toBeGreaterThanOrEqual(60_000);
  });
});

describe("probeLive", () => {
  it("reports a refusal's status and Retry-After, and closes what it opened", async () => {
    let signal: AbortSignal | undefined;
    let asked = "";
    const answer = await probeLive(async (url, init) => {
      asked = url;
      signal = init?.signal ?? undefined;
      return new Response('{"detail":"full"}', { status: 503, headers: { "Retry-After": "30" } });
    });
    expect(asked).toBe(LIVE_URL);
    expect(answer).toEqual({ status: 503, retryAfter: 30_000 });
    expect(signal?.aborted).toBe(true);
  });

  it("says nothing when the server cannot be reached", async () => {
    const answer = await probeLive(async () => {
      throw new TypeError("Failed to fetch");
    });
    expect(answer).toBeNull();
  });
});

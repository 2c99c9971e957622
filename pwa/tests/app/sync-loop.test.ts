import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createSyncLoop } from "../../src/app/sync-loop";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function loop(outcomes: boolean[], state = { visible: true, online: true }) {
  const attempts: number[] = [];
  const sync = createSyncLoop({
    run: async (attempt) => {
      attempts.push(attempt);
      if (outcomes.shift() === false) throw new Error("no network");
    },
    isVisible: () => state.visible,
    isOnline: () => state.online,
    pollMs: 30_000,
    maxBackoffMs: 120_000,
    random: () => 0.999999,
  });
  return { sync, attempts, state };
}

describe("createSyncLoop", () => {
  it("polls every 30 seconds while all is well", async () => {
    const { sync, attempts } = loop([true, true, true]);
    await sync.trigger();
    expect(sync.nextDelay).toBe(30_000);
    await vi.advanceTimersByTimeAsync(30_000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(attempts).toEqual([0, 0, 0]);
    sync.stop();
  });

  it("backs off exponentially after failures and resets after a success", async () => {
    const { sync, attempts } = loop([false, false, false, true, true]);
    await sync.trigger();
    expect(sync.nextDelay).toBe(2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sync.nextDelay).toBe(4_000);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(sync.nextDelay).toBe(8_000);
    await vi.advanceTimersByTimeAsync(8_000);
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(sync.nextDelay).toBe(30_000);
    sync.stop();
  });

  it("caps the backoff", async () => {
    const { sync } = loop(Array(12).fill(false));
    await sync.trigger();
    for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(sync.nextDelay ?? 0);
    expect(sync.nextDelay).toBe(120_000);
    sync.stop();
  });

  it("does not poll while hidden or offline, and syncs at once when triggered again", async () => {
    const { sync, attempts, state } = loop([true, true, true]);
    await sync.trigger();
    state.visible = false;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(attempts).toHaveLength(1);
    state.visible = true;
    await sync.trigger();
    expect(attempts).toHaveLength(2);
    sync.stop();
  });

  it("runs one sync at a time", async () => {
    let release: () => void = () => undefined;
    let runs = 0;
    const sync = createSyncLoop({
      run: () => {
        runs += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      isVisible: () => true,
      isOnline: () => true,
    });
    const first = sync.trigger();
    const second = sync.trigger();
    release();
    await Promise.all([first, second]);
    expect(runs).toBe(1);
    sync.stop();
  });

  it("a trigger (coming back online) cuts a long backoff short", async () => {
    const { sync, attempts } = loop([false, false, false, false, true]);
    await sync.trigger();
    await vi.advanceTimersByTimeAsync(2_000);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(sync.nextDelay).toBe(8_000);
    await sync.trigger();
    expect(attempts).toEqual([0, 1, 2, 3]);
    sync.stop();
  });
});

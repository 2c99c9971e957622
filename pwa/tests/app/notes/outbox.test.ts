import { describe, expect, it } from "vitest";

import { createOutbox, type OutboxOptions } from "../../../src/app/notes/outbox";

/** A manual clock with timers, so the schedule can be read and advanced. */
function clock() {
  let time = 1_000_000;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  return {
    now: () => time,
    setTimer: (callback: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: time + ms, callback });
      return id;
    },
    clearTimer: (handle: unknown) => void timers.delete(handle as number),
    pending: () => timers.size,
    async advance(ms: number) {
      const until = time + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, timer]) => timer.at <= until).sort((x, y) => x[1].at - y[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        time = due[1].at;
        due[1].callback();
        await flushPromises();
      }
      time = until;
      await flushPromises();
    },
  };
}

async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

function setup(overrides: Partial<OutboxOptions> = {}) {
  const time = clock();
  const runs: number[] = [];
  let fail: unknown = null;
  const outbox = createOutbox({
    run: async () => {
      runs.push(time.now());
      if (fail) throw fail;
    },
    isOnline: () => true,
    isVisible: () => true,
    random: () => 0.999,
    now: time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    ...overrides,
  });
  return { outbox, time, runs, failWith: (error: unknown) => (fail = error) };
}

describe("the private sync outbox", () => {
  it("runs requests after their delay and folds requests that come meanwhile into one run", async () => {
    const { outbox, time, runs } = setup();
    outbox.request(1_500);
    outbox.request(1_500);
    outbox.request(3_000);
    await time.advance(1_499);
    expect(runs).toHaveLength(0);
    await time.advance(1);
    expect(runs).toHaveLength(1);
    await time.advance(10_000);
    expect(runs).toHaveLength(1);
  });

  it("keeps a minimum interval between runs, and runs once more for a request made during a run", async () => {
    let release: () => void = () => undefined;
    const { outbox, time, runs } = setup({
      run: () => {
        runs.push(time.now());
        return new Promise<void>((resolve) => (release = resolve));
      },
      minIntervalMs: 2_000,
    });
    const first = outbox.flush();
    outbox.request(0); // a save while the request is under way
    release();
    await first;
    await flushPromises();
    expect(runs).toHaveLength(1);
    await time.advance(1_999);
    expect(runs).toHaveLength(1);
    await time.advance(1);
    expect(runs).toHaveLength(2);
    release();
  });

  it("backs off exponentially after failures, honours Retry-After, and a success resets it", async () => {
    const { outbox, time, runs, failWith } = setup({
      retryAfter: (error) => (error === "slow down" ? 60_000 : null),
    });
    failWith(new TypeError("offline"));
    await outbox.flush();
    expect(outbox.failures).toBe(1);
    const gaps: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const before = runs.length;
      const start = time.now();
      while (runs.length === before) await time.advance(100);
      gaps.push(runs[runs.length - 1]! - start);
    }
    // 2 s, 4 s, 8 s, 16 s (random close to 1: the full delay), each on 100 ms steps.
    expect(gaps.map((gap) => Math.round(gap / 1000))).toEqual([2, 4, 8, 16]);
    // Requests do not cut a backoff short.
    outbox.request(0);
    await time.advance(1_000);
    expect(runs).toHaveLength(5);
    failWith("slow down");
    await outbox.flush();
    const at = time.now();
    const before = runs.length;
    while (runs.length === before) await time.advance(1_000);
    expect(runs[runs.length - 1]! - at).toBeGreaterThanOrEqual(60_000);
    failWith(null);
    await outbox.flush();
    expect(outbox.failures).toBe(0);
  });

  it("polls while visible when asked to, and waits for the network when offline", async () => {
    let online = false;
    let poll: number | null = null;
    const { outbox, time, runs } = setup({ isOnline: () => online, pollMs: () => poll });
    outbox.request(0);
    await time.advance(5_000);
    expect(runs).toHaveLength(0); // offline: the `online` event flushes instead
    online = true;
    await outbox.flush();
    expect(runs).toHaveLength(1);
    await time.advance(60_000);
    expect(runs).toHaveLength(1); // no polling unless a view watches
    poll = 4_000;
    await outbox.flush();
    await time.advance(8_000);
    expect(runs).toHaveLength(4);
  });

  it("stops on a fatal error (the identity is gone) until resumed", async () => {
    const { outbox, time, runs, failWith } = setup({ isFatal: (error) => error === "gone" });
    failWith("gone");
    await outbox.flush();
    expect(outbox.stopped).toBe(true);
    outbox.request(0);
    await outbox.flush();
    await time.advance(600_000);
    expect(runs).toHaveLength(1);
    failWith(null);
    outbox.resume();
    await outbox.flush();
    expect(runs).toHaveLength(2);
  });
});

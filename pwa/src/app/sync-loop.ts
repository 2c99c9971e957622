/**
 * When to pull the change feed: every ~30 s while the page is visible, at once when the device
 * comes online or the page becomes visible again, and after a failure with exponential backoff.
 */

import { backoffDelay } from "../shared/http";

export interface SyncLoopOptions {
  /** One sync; `attempt` counts the failures since the last success (0 on a healthy run). */
  run: (attempt: number) => Promise<void>;
  isVisible: () => boolean;
  isOnline: () => boolean;
  pollMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  onError?: (error: unknown) => void;
}

export interface SyncLoop {
  /** Sync now (unless one is under way) and start the schedule again from there. */
  trigger(): Promise<void>;
  stop(): void;
  /** The delay of the timer now waiting, for tests and the status line. */
  readonly nextDelay: number | null;
}

export function createSyncLoop(options: SyncLoopOptions): SyncLoop {
  const {
    run,
    isVisible,
    isOnline,
    pollMs = 30_000,
    maxBackoffMs = 120_000,
    random = Math.random,
    setTimer = (callback, ms) => setTimeout(callback, ms),
    clearTimer = (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    onError = () => undefined,
  } = options;
  let failures = 0;
  let timer: unknown = null;
  let nextDelay: number | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  function schedule(ms: number): void {
    if (timer !== null) clearTimer(timer);
    timer = null;
    nextDelay = null;
    if (stopped) return;
    nextDelay = ms;
    timer = setTimer(() => {
      timer = null;
      nextDelay = null;
      // Hidden or offline: wait for the visibilitychange or online event instead of polling.
      if (isVisible() && isOnline()) void trigger();
    }, ms);
  }

  async function once(): Promise<void> {
    try {
      await run(failures);
      failures = 0;
      schedule(pollMs);
    } catch (error) {
      onError(error);
      const delay = backoffDelay(failures, { maxMs: maxBackoffMs, random });
      failures += 1;
      schedule(delay);
    }
  }

  function trigger(): Promise<void> {
    if (stopped) return Promise.resolve();
    running ??= once().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    trigger,
    stop() {
      stopped = true;
      schedule(0);
    },
    get nextDelay() {
      return nextDelay;
    },
  };
}

/**
 * When to run the private sync: on request (app start, `online`, page visible, a saved change,
 * a successful request to the server, a message from the service worker), never more often than
 * `minIntervalMs`, every `pollMs()` while the page is visible, and after a failure with
 * exponential backoff (or the server's Retry-After). A fatal failure (the identity is gone) stops
 * it until `resume()`.
 */

import { backoffDelay } from "../../shared/http";

export interface OutboxOptions {
  run: () => Promise<void>;
  isOnline: () => boolean;
  isVisible: () => boolean;
  /** How long to wait between polls while visible, or null for no polling. */
  pollMs?: () => number | null;
  minIntervalMs?: number;
  maxBackoffMs?: number;
  /** The failure's own delay (HTTP 429 Retry-After), if it has one. */
  retryAfter?: (error: unknown) => number | null;
  /** The failure ends syncing until `resume()` (e.g. 401: the attendee was erased). */
  isFatal?: (error: unknown) => boolean;
  onError?: (error: unknown) => void;
  random?: () => number;
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface Outbox {
  /** Run within `delayMs` (sooner if already due); a run under way is followed by another. */
  request(delayMs?: number): void;
  /** Run now unless one runs already; resolves when the run (or the one under way) ends. */
  flush(): Promise<void>;
  resume(): void;
  stop(): void;
  readonly failures: number;
  readonly stopped: boolean;
  /** When the waiting timer fires (ms since epoch), for tests. */
  readonly dueAt: number | null;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const {
    run,
    isOnline,
    isVisible,
    pollMs = () => null,
    minIntervalMs = 1_500,
    maxBackoffMs = 120_000,
    retryAfter = () => null,
    isFatal = () => false,
    onError = () => undefined,
    random = Math.random,
    now = () => Date.now(),
    setTimer = (callback, ms) => setTimeout(callback, ms),
    clearTimer = (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  } = options;
  let failures = 0;
  let timer: unknown = null;
  let dueAt: number | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let lastRun = -Infinity;
  let stopped = false;
  /** Set while backing off: requests do not cut a backoff short (only `online` and `flush` do). */
  let backingOff = false;

  function schedule(at: number): void {
    if (stopped) return;
    if (timer !== null && dueAt !== null && dueAt <= at) return;
    if (timer !== null) clearTimer(timer);
    dueAt = at;
    timer = setTimer(
      () => {
        timer = null;
        dueAt = null;
        if (isOnline()) void flush();
      },
      Math.max(0, at - now()),
    );
  }

  function cancel(): void {
    if (timer !== null) clearTimer(timer);
    timer = null;
    dueAt = null;
  }

  async function once(): Promise<void> {
    lastRun = now();
    try {
      await run();
      failures = 0;
      backingOff = false;
    } catch (error) {
      onError(error);
      if (isFatal(error)) {
        stopped = true;
        cancel();
        return;
      }
      const delay = Math.max(backoffDelay(failures, { maxMs: maxBackoffMs, random }), retryAfter(error) ?? 0);
      failures += 1;
      backingOff = true;
      again = false;
      schedule(now() + delay);
      return;
    }
    if (again) {
      again = false;
      schedule(lastRun + minIntervalMs);
      return;
    }
    const poll = isVisible() ? pollMs() : null;
    if (poll !== null) schedule(now() + poll);
  }

  function flush(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    cancel();
    backingOff = false;
    running = once().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    request(delayMs = 0) {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      if (backingOff && timer !== null) return;
      schedule(Math.max(now() + delayMs, lastRun + minIntervalMs));
    },
    flush,
    resume() {
      stopped = false;
      failures = 0;
      backingOff = false;
    },
    stop() {
      stopped = true;
      cancel();
    },
    get failures() {
      return failures;
    },
    get stopped() {
      return stopped;
    },
    get dueAt() {
      return dueAt;
    },
  };
}

/** HTTP for weak venue wifi: every request gives up after a few seconds; failures back off exponentially. */

export const REQUEST_TIMEOUT_MS = 5_000;

/** The server answered with an error status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = "HttpError";
  }
}

/** The server did not answer within the timeout. */
export class TimeoutError extends Error {
  constructor(readonly url: string) {
    super(`no answer from ${url} in time`);
    this.name = "TimeoutError";
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface JsonOptions {
  fetch?: Fetch;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * GET a JSON document, abandoning it after `timeoutMs` (the body counts: a stalled download is
 * as useless as a stalled connection).
 *
 * @throws HttpError on a non-2xx status; TimeoutError when it hangs; the fetch error when offline.
 */
export async function getJson<T>(url: string, options: JsonOptions = {}): Promise<T> {
  const { fetch: doFetch = (input, init) => fetch(input, init), timeoutMs = REQUEST_TIMEOUT_MS, signal } = options;
  return withTimeout(url, timeoutMs, signal, async (abort) => {
    const response = await doFetch(url, {
      signal: abort,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new HttpError(response.status, url);
    return (await response.json()) as T;
  });
}

/**
 * Run a request (`run` gets the signal to pass to fetch and reads the body inside) and abandon it
 * after `timeoutMs` or when `signal` aborts.
 *
 * @throws TimeoutError when the time ran out; whatever `run` throws otherwise.
 */
export async function withTimeout<T>(
  url: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  run: (abort: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort);
  try {
    return await run(controller.signal);
  } catch (error) {
    if (timedOut) throw new TimeoutError(url);
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** A number in [0, 1); the delay is spread over its upper half so phones do not retry in step. */
  random?: () => number;
}

/**
 * How long to wait before retry number `attempt` (0 for the first retry): the base doubled per
 * attempt, capped, with jitter between half and all of it.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 2_000, maxMs = 5 * 60_000, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * How long to wait for an answer on retry number `attempt`: 5 s, then 10 s, then 20 s, so that a
 * download too slow for a short timeout on crowded wifi still gets through in the end.
 */
export function timeoutFor(attempt: number, baseMs = REQUEST_TIMEOUT_MS, maxMs = 20_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 10)));
}

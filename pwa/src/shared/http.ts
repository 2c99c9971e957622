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

/**
 * How long a download may go without a single byte before it counts as stalled. Only progress
 * counts, not total time: at 150 kbit/s the whole programme takes half a minute and still arrives.
 */
export const STALL_TIMEOUT_MS = 8_000;
/** Stalls and dropped connections one download survives, resuming each time, before it gives up. */
export const MAX_RESUMES = 30;

export interface ResumableOptions {
  fetch?: Fetch;
  stallMs?: number;
  signal?: AbortSignal;
  /** Bytes received so far and the whole size when known, after every chunk. */
  onProgress?: (received: number, total: number | null) => void;
  maxResumes?: number;
  /** Wait before retrying after a failed connection (not after a stall: that retries at once). */
  retryDelayMs?: number;
}

export interface Download {
  bytes: Uint8Array;
  /** The address the bytes came from, after redirects (an immutable per-cursor address). */
  url: string;
  /** The immutable address the server named in `Content-Location` (a moving address answering at once), or null. */
  contentLocation: string | null;
}

class Stalled extends Error {}

/**
 * GET immutable bytes (the programme at one cursor), giving up on a connection only when it makes
 * no progress for `stallMs`, and resuming where it stopped with `Range` and `If-Range` rather
 * than starting again. `url` may redirect to the immutable address (`/api/programme/at/current`);
 * when that address is gone (410) the download starts again at `url`.
 *
 * @throws HttpError on another error status; TimeoutError after `maxResumes` stalls; a network
 *   error at once when a connection fails before any byte arrives (offline: the caller backs off).
 */
export async function getResumable(url: string, options: ResumableOptions = {}): Promise<Download> {
  const {
    fetch: doFetch = (input, init) => fetch(input, init),
    stallMs = STALL_TIMEOUT_MS,
    signal,
    onProgress,
    maxResumes = MAX_RESUMES,
    retryDelayMs = 1_000,
  } = options;
  let address = url;
  let etag: string | null = null;
  let chunks: Uint8Array[] = [];
  let received = 0;
  let total: number | null = null;
  let contentLocation: string | null = null;
  for (let attempt = 0; ; attempt++) {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Stalled()), stallMs);
    };
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    const before = received;
    touch();
    try {
      const headers: Record<string, string> = {};
      if (received > 0 && etag !== null) {
        headers["Range"] = `bytes=${received}-`;
        headers["If-Range"] = etag;
      }
      const response = await doFetch(address, { signal: controller.signal, headers, credentials: "same-origin" });
      touch();
      if (response.status === 410 && address !== url) {
        // That cursor's bytes are no longer kept: start again at the current one.
        address = url;
        etag = null;
        chunks = [];
        received = 0;
        continue;
      }
      if (!response.ok) throw new HttpError(response.status, address);
      if (response.url) address = response.url;
      if (response.status !== 206) {
        chunks = [];
        received = 0;
      }
      etag = response.headers.get("ETag");
      contentLocation = response.headers.get("Content-Location");
      total = sizeOf(response, received);
      if (response.body === null) throw new Error(`no body from ${address}`);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        touch();
        onProgress?.(received, total);
      }
      if (total !== null && received < total) throw new Error(`the connection closed after ${received} of ${total} bytes`);
      return { bytes: concat(chunks, received), url: address, contentLocation };
    } catch (error) {
      if (signal?.aborted) throw error;
      if (error instanceof HttpError) throw error;
      const stalled = controller.signal.reason instanceof Stalled;
      if (attempt >= maxResumes) throw stalled ? new TimeoutError(address) : error;
      // A connection that failed before any byte arrived (offline): the caller backs off and retries.
      if (!stalled && received === before) throw error;
      if (!stalled && retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** The whole size of the resource: from `Content-Range` on a 206, else `Content-Length`. */
function sizeOf(response: Response, offset: number): number | null {
  const range = response.headers.get("Content-Range");
  const whole = range ? /\/(\d+)$/.exec(range) : null;
  if (whole) return Number(whole[1]);
  const length = response.headers.get("Content-Length");
  return length === null ? null : Number(length) + (response.status === 206 ? offset : 0);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The JSON document in gzip `bytes`, decompressed by the browser (DecompressionStream). */
export async function gunzipJson<T>(bytes: Uint8Array): Promise<T> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  return (await new Response(stream).json()) as T;
}

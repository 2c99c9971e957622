/**
 * The console's HTTP client: same-origin JSON with the console cookie, the CSRF token on every
 * write, and errors as `ApiError` (status, the server's detail, field problems, Retry-After).
 */

/** One field the server refused: `key` is the camelCase field, sometimes with a path (`speakerIds[1]`). */
export interface FieldProblem {
  key: string;
  message: string;
}

/** A refused or failed request. `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly problems: FieldProblem[] = [],
    /** Seconds to wait, from a 429's Retry-After. */
    readonly retryAfter: number | null = null,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** The token the sign-in gave; sent as `X-CSRF-Token` on every write. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the server answers 401 (the console session ended): back to sign-in. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

/** The problems of an error body (`extra` of `{status_code, detail, extra}`), tolerating any shape. */
export function problemsOf(extra: unknown): FieldProblem[] {
  if (!Array.isArray(extra)) return [];
  return extra
    .filter((item): item is { key?: unknown; message?: unknown } => Boolean(item) && typeof item === "object")
    .map((item) => ({ key: typeof item.key === "string" ? item.key : "", message: typeof item.message === "string" ? item.message : "" }))
    .filter((item) => item.message || item.key);
}

/** Seconds of a Retry-After header (a number of seconds or an HTTP date); null when absent. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is (a file for the import). */
  body?: BodyInit;
  contentType?: string;
  /** A 401 here is the answer, not the end of a session (sign-in, password check). */
  expectUnauthorized?: boolean;
}

/** Send a request to the server and return its JSON (undefined for 204). */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  if (!SAFE_METHODS.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body ?? null, credentials: "same-origin", cache: "no-cache" });
  } catch {
    throw new ApiError(0, "The server could not be reached. Check the connection and try again.");
  }
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  let detail = `The server answered ${response.status}.`;
  let problems: FieldProblem[] = [];
  try {
    const data = (await response.json()) as { detail?: unknown; extra?: unknown };
    if (typeof data.detail === "string" && data.detail) detail = data.detail;
    problems = problemsOf(data.extra);
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const error = new ApiError(response.status, detail, problems, retryAfterSeconds(response.headers.get("Retry-After")));
  if (response.status === 401 && !options.expectUnauthorized) onUnauthorized?.();
  throw error;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, json?: unknown, options: RequestOptions = {}) => request<T>("POST", path, { ...options, json });
export const patch = <T>(path: string, json: unknown) => request<T>("PATCH", path, { json });
export const put = <T>(path: string, json: unknown) => request<T>("PUT", path, { json });
export const del = (path: string) => request<void>("DELETE", path);

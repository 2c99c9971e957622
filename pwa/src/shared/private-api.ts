/**
 * The attendee API without Yjs: anonymous identity, link codes, erasing; JSON over fetch with a
 * timeout, errors carrying the server's explanation. Standard base64 for binary fields.
 */

import type { CalendarFeed } from "./db";
import { HttpError, REQUEST_TIMEOUT_MS, withTimeout, type Fetch } from "./http";
import { adoptIdentity, allIdentities, getIdentity, getPrivate, setPrivate, type Identity } from "./private-store";

/** The server's limit on a note's text (server/services/private_sync.py), checked here first. */
export const MAX_NOTE_TEXT_BYTES = 100 * 1024;

/** The server refused a request and said why (`detail`); 429 also says when to retry. */
export class ApiError extends HttpError {
  constructor(
    status: number,
    url: string,
    readonly detail: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(status, url);
    this.name = "ApiError";
  }
}

/** The attendee this device belonged to no longer exists (erased, perhaps from another device). */
export class IdentityLostError extends Error {
  constructor() {
    super("the attendee token is no longer valid");
    this.name = "IdentityLostError";
  }
}

export interface ApiOptions {
  fetch?: Fetch;
  timeoutMs?: number;
  token?: string | null;
  body?: unknown;
  /** Called with a successful response's headers (the server's `Date`, for one). */
  onHeaders?: (headers: Headers) => void;
}

/** One JSON request to the server's own origin. */
export async function apiRequest<T>(method: string, url: string, options: ApiOptions = {}): Promise<T> {
  const { fetch: doFetch = (input, init) => fetch(input, init), timeoutMs = REQUEST_TIMEOUT_MS, token, body, onHeaders } = options;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  return withTimeout(url, timeoutMs, undefined, async (abort) => {
    const response = await doFetch(url, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: abort,
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) {
      let detail = "";
      try {
        detail = String(((await response.json()) as { detail?: unknown }).detail ?? "");
      } catch {
        // No JSON body: the status says enough.
      }
      const retryAfter = Number(response.headers.get("Retry-After"));
      throw new ApiError(response.status, url, detail, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null);
    }
    onHeaders?.(response.headers);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  });
}

/**
 * This device's credentials, creating an anonymous attendee when there are none yet (registering
 * this device's name and public key when `device` gives them; the sync does, and else it registers
 * them later).
 */
export async function ensureIdentity(
  options: ApiOptions & { device?: () => Promise<{ name: string; publicKey: string }> } = {},
): Promise<Identity & { deviceId?: string }> {
  const known = await getIdentity();
  if (known && !(await getPrivate("identityLost"))) return known;
  if (known) throw new IdentityLostError();
  const body = options.device ? await options.device() : {};
  const created = await apiRequest<Identity & { deviceId?: string }>("POST", "/api/attendees", { ...options, body });
  await adoptIdentity({ attendeeId: created.attendeeId, token: created.token });
  return { attendeeId: created.attendeeId, token: created.token, deviceId: created.deviceId };
}

export interface LinkCode {
  code: string;
  expiresAt: string;
}

/** A link code as shown: how long it stays valid counts from when it arrived, on no device's clock. */
export interface ShownLinkCode extends LinkCode {
  /** Milliseconds the code stays valid after it arrived, by the server's clock. */
  validForMs: number;
}

/**
 * How long a code that expires at `expiresAt` (the server's clock) stays valid, measured from the
 * server's `Date` header of the response that brought it, so a device clock that is off (a phone set
 * an hour ahead, or to another zone's time by hand) neither expires the code at once nor shows hours.
 * Without a usable `Date`, the device's clock is all there is.
 */
export function validFor(expiresAt: string, serverDate: string | null, deviceNow: number): number {
  const expires = Date.parse(expiresAt);
  const sent = serverDate ? Date.parse(serverDate) : Number.NaN;
  return Math.max(0, expires - (Number.isNaN(sent) ? deviceNow : sent));
}

/** A single-use code (10 minutes) that gives another device this attendee. */
export async function createLinkCode(options: ApiOptions = {}): Promise<ShownLinkCode> {
  const identity = await ensureIdentity(options);
  let serverDate: string | null = null;
  const created = await apiRequest<LinkCode>("POST", "/api/attendees/me/link-code", {
    ...options,
    token: identity.token,
    body: {},
    onHeaders: (headers) => (serverDate = headers.get("Date")),
  });
  return { ...created, validForMs: validFor(created.expiresAt, serverDate, Date.now()) };
}

/**
 * Erase on the server every attendee this device ever was (a token that is already invalid counts
 * as erased): the current one, and those left behind by linking.
 */
export async function eraseOnServer(options: ApiOptions = {}): Promise<void> {
  for (const identity of await allIdentities()) {
    try {
      await apiRequest<void>("DELETE", "/api/attendees/me", { ...options, token: identity.token });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) continue;
      throw error;
    }
  }
}

export type { CalendarFeed };

/** The calendar feed of my agenda made on this device earlier, if it belongs to the current attendee. */
export async function savedCalendarFeed(): Promise<CalendarFeed | null> {
  const [identity, feed] = await Promise.all([getIdentity(), getPrivate("calendarFeed")]);
  return identity && feed?.attendeeId === identity.attendeeId ? { url: feed.url, webcalUrl: feed.webcalUrl } : null;
}

/** A new secret address for my agenda as a calendar feed in `lang`; the previous address stops working. */
export async function createCalendarFeed(lang: string, options: ApiOptions = {}): Promise<CalendarFeed> {
  const identity = await ensureIdentity(options);
  const path = `/api/attendees/me/calendar?lang=${encodeURIComponent(lang)}`;
  const feed = await apiRequest<CalendarFeed>("POST", path, { ...options, token: identity.token });
  await setPrivate("calendarFeed", { ...feed, attendeeId: identity.attendeeId, lang });
  return { url: feed.url, webcalUrl: feed.webcalUrl };
}

/** Have the calendar feed made on this device follow the app's language `lang` (once per change). */
export async function followCalendarLanguage(lang: string, options: ApiOptions = {}): Promise<void> {
  const [identity, feed] = await Promise.all([getIdentity(), getPrivate("calendarFeed")]);
  if (!identity || !feed || feed.attendeeId !== identity.attendeeId || feed.lang === lang) return;
  await apiRequest<unknown>("PUT", "/api/attendees/me/calendar/language", { ...options, token: identity.token, body: { lang } });
  await setPrivate("calendarFeed", { ...feed, lang });
}

/** Turn the calendar feed off: its address answers 404 from now on. */
export async function deleteCalendarFeed(options: ApiOptions = {}): Promise<void> {
  const identity = await ensureIdentity(options);
  await apiRequest<void>("DELETE", "/api/attendees/me/calendar", { ...options, token: identity.token });
  await setPrivate("calendarFeed", null);
}

/** Ask for an attendee at the next sync (something private was saved). */
export async function wantIdentity(): Promise<void> {
  if (!(await getPrivate("wantIdentity"))) await setPrivate("wantIdentity", true);
}

/** Link codes are typed by hand: "abcde fghij", "ABCDE-FGHIJ" and "abcdefghij" are the same code. */
export function normaliseCode(text: string): string {
  return text.toUpperCase().replace(/[^0-9A-Z]/g, "");
}

/** A code as shown: two groups of five, "XXXXX-XXXXX". */
export function groupCode(code: string): string {
  const plain = normaliseCode(code);
  return plain.length === 10 ? `${plain.slice(0, 5)}-${plain.slice(5)}` : code;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

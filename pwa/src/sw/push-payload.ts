/**
 * What a push message from the Kumpul server shows (`server/push/payloads.py`): an announcement,
 * a session change alert or a reminder before a bookmarked session, as a notification. Pure, so it is tested without a worker.
 */

export interface NotificationPlan {
  title: string;
  body: string;
  /** The same for every message about one thing (like the push Topic), so a correction replaces the original. */
  tag: string;
  /** Keep it on screen until the attendee acts (urgent announcements). */
  requireInteraction: boolean;
  /** The app page a click opens. */
  url: string;
}

const MAX_TITLE = 140;
const MAX_BODY = 1000;

function text(value: unknown, limit: number): string {
  return typeof value === "string" ? value.trim().slice(0, limit) : "";
}

/** An app path ("/announcements/x"); anything else (another origin, "//host", javascript:) is refused. */
export function appPath(value: unknown): string | null {
  return typeof value === "string" && /^\/(?!\/)/.test(value) && !value.includes("\\") ? value : null;
}

/** The payload as JSON, or null when it is missing or not a JSON object. */
export function readPayload(data: { text(): string } | null | undefined): Record<string, unknown> | null {
  if (!data) return null;
  try {
    const value: unknown = JSON.parse(data.text());
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The language a message was written in (a BCP 47 tag), for the notification's `lang`; undefined for the original. */
export function payloadLang(payload: Record<string, unknown> | null): string | undefined {
  const lang = payload?.["lang"];
  return typeof lang === "string" && /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : undefined;
}

/**
 * The notification for a payload. A payload that is missing or unreadable still shows one (the
 * browser requires it for every push): a generic one leading to the announcements.
 */
export function planNotification(payload: Record<string, unknown> | null): NotificationPlan {
  const title = text(payload?.["title"], MAX_TITLE);
  const body = text(payload?.["body"], MAX_BODY);
  const type = payload?.["type"];
  if ((type === "alert" || type === "reminder") && typeof payload?.["sessionId"] === "string" && payload["sessionId"]) {
    const sessionId = payload["sessionId"];
    // A reminder and a change alert about one session share its tag: the newer replaces the one on screen.
    return {
      title: title || (type === "reminder" ? "Starting soon" : "Session changed"),
      body,
      tag: `alert:${sessionId}`,
      requireInteraction: false,
      url: appPath(payload["url"]) ?? `/sessions/${encodeURIComponent(sessionId)}`,
    };
  }
  if (payload?.["type"] === "announcement" && typeof payload["id"] === "string" && payload["id"]) {
    const id = payload["id"];
    const truncated = payload["truncated"] === true && body && !body.endsWith("…");
    return {
      title: title || "Announcement",
      body: truncated ? `${body}…` : body,
      tag: `announcement:${id}`,
      requireInteraction: payload["priority"] === "urgent",
      url: appPath(payload["url"]) ?? `/announcements/${encodeURIComponent(id)}`,
    };
  }
  return {
    title: title || "Kumpul",
    body: body || "New announcement from the organisers",
    tag: "kumpul",
    requireInteraction: false,
    url: appPath(payload?.["url"]) ?? "/announcements",
  };
}

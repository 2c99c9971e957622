/**
 * Session feedback on this device, and sending it: a rating is saved here first (so it survives
 * being offline, a closed tab, a restart) and sent to the server when the connection allows.
 */

import { db, type FeedbackRecord } from "./db";
import { ApiError, IdentityLostError, apiRequest, ensureIdentity, type ApiOptions } from "./private-api";

export type { FeedbackRecord };

/** The server's limit on a comment (server/schemas/feedback.py), checked here first. */
export const MAX_COMMENT = 2000;

export async function getFeedback(sessionId: string): Promise<FeedbackRecord | undefined> {
  return (await db()).get("feedback", sessionId);
}

/** Save a rating for sending (replacing the one this device held for the session). */
export async function saveFeedback(sessionId: string, rating: number, comment: string, writtenAt = Date.now()): Promise<FeedbackRecord> {
  const record: FeedbackRecord = { sessionId, rating, comment: comment.trim().slice(0, MAX_COMMENT), writtenAt, state: "pending" };
  await (await db()).put("feedback", record);
  return record;
}

/** Mark what the server answered, unless the attendee wrote a newer version meanwhile. */
async function settle(sent: FeedbackRecord, state: FeedbackRecord["state"], refusal?: string): Promise<void> {
  const tx = (await db()).transaction("feedback", "readwrite");
  const current = await tx.store.get(sent.sessionId);
  if (current && current.writtenAt === sent.writtenAt) {
    await tx.store.put(refusal === undefined ? { ...current, state } : { ...current, state, refusal });
  }
  await tx.done;
}

export interface FlushResult {
  sent: string[];
  refused: string[];
  /** Something stopped the sending (offline, the server busy): the rest waits for the next try. */
  stopped: boolean;
}

/**
 * Send every rating still pending, oldest first. A refusal the same request would meet again (the
 * session was cancelled, a rating out of range) is kept with its reason and not retried; being
 * offline, a rate limit or a server error leaves the rest pending for the next try.
 */
export async function flushFeedback(options: ApiOptions = {}): Promise<FlushResult> {
  const result: FlushResult = { sent: [], refused: [], stopped: false };
  const pending = (await (await db()).getAll("feedback")).filter((record) => record.state === "pending").sort((a, b) => a.writtenAt - b.writtenAt);
  if (!pending.length) return result;
  let token: string;
  try {
    token = (await ensureIdentity(options)).token;
  } catch {
    return { ...result, stopped: true };
  }
  for (const record of pending) {
    try {
      await apiRequest("PUT", `/api/me/feedback/${encodeURIComponent(record.sessionId)}`, {
        ...options,
        token,
        body: { rating: record.rating, comment: record.comment },
      });
      await settle(record, "sent");
      result.sent.push(record.sessionId);
    } catch (error) {
      const final = error instanceof ApiError && [400, 404, 409, 413].includes(error.status);
      if (!final || error instanceof IdentityLostError) return { ...result, stopped: true };
      await settle(record, "refused", error.detail);
      result.refused.push(record.sessionId);
    }
  }
  return result;
}

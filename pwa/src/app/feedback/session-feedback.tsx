/**
 * "Your feedback" on a session page: a rating 1–5 and an optional comment, once the session has
 * started (never for a cancelled one). Saved on the device first and sent when the connection allows,
 * so it works offline; sending again replaces the attendee's earlier rating.
 */

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";

import { instant } from "../../shared/feed";
import { MAX_COMMENT, flushFeedback, getFeedback, saveFeedback, type FeedbackRecord } from "../../shared/feedback-store";
import type { Session } from "../../shared/types";
import { t } from "../prefs";
import { appNow } from "../ui/clock";
import "./feedback.css";

/** Bumped whenever a send settles something, so an open form shows the new state. */
const settled = signal(0);
let flushing: Promise<void> | null = null;

/** Send what is pending (one run at a time): on reconnecting (see slot.tsx), the page becoming visible, a save. */
export function sendPendingFeedback(): Promise<void> {
  flushing ??= flushFeedback({ timeoutMs: 10_000 })
    .then((result) => {
      if (result.sent.length || result.refused.length) settled.value += 1;
    })
    .catch(() => undefined)
    .finally(() => {
      flushing = null;
    });
  return flushing;
}

if (typeof window !== "undefined") {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) void sendPendingFeedback();
  });
}

export function SessionFeedback({ session }: { session: Session }) {
  const messages = t.value;
  const open = session.status !== "cancelled" && instant(session.start) <= appNow.value;
  const [stored, setStored] = useState<FeedbackRecord | null>(null);
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState("");
  const version = settled.value;

  useEffect(() => {
    let live = true;
    void getFeedback(session.id).then((record) => {
      if (!live) return;
      setStored(record ?? null);
      if (record) {
        setRating(record.rating);
        setComment(record.comment);
      }
    });
    return () => {
      live = false;
    };
  }, [session.id, version]);

  if (!open) return null;
  const heading = `feedback-${session.id}`;

  async function submit(event: Event) {
    event.preventDefault();
    if (rating < 1 || rating > 5) return;
    setStored(await saveFeedback(session.id, rating, comment));
    await sendPendingFeedback();
    // A send already under way when this was saved did not carry it: one more.
    if ((await getFeedback(session.id))?.state === "pending" && navigator.onLine) await sendPendingFeedback();
    setStored((await getFeedback(session.id)) ?? null);
  }

  const status =
    stored?.state === "sent" ? messages.feedbackSent : stored?.state === "refused" ? messages.feedbackRefused(stored.refusal ?? "") : stored ? messages.feedbackPending : "";
  return (
    <section class="feedback" aria-labelledby={heading}>
      <h2 id={heading}>{messages.feedbackTitle}</h2>
      <p class="muted">{messages.feedbackIntro}</p>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <fieldset class="feedback-rating">
          <legend>{messages.feedbackRating}</legend>
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n} class={n <= rating ? "feedback-star chosen" : "feedback-star"}>
              <input type="radio" name={`${heading}-rating`} value={n} checked={rating === n} onChange={() => setRating(n)} />
              {/* Filled up to the rating and hollow after it: told apart by shape, not only by colour. */}
              <span aria-hidden="true">{n <= rating ? "★" : "☆"}</span>
              <span class="visually-hidden">{messages.feedbackRatingOption(n)}</span>
            </label>
          ))}
        </fieldset>
        {session.recording === "off-the-record" && <p class="feedback-warning">{messages.feedbackOffRecord}</p>}
        <label class="field">
          <span class="field-label">{messages.feedbackComment}</span>
          <textarea rows={3} maxLength={MAX_COMMENT} value={comment} onInput={(event) => setComment((event.target as HTMLTextAreaElement).value)} />
        </label>
        <p class="feedback-actions">
          {/* Sending again replaces the rating sent before. */}
          <button type="submit" class="button button-primary" disabled={rating === 0}>
            {messages.feedbackSend}
          </button>
        </p>
        <p class={stored?.state === "refused" ? "feedback-status refused" : "feedback-status"} role="status">
          {status}
        </p>
      </form>
    </section>
  );
}

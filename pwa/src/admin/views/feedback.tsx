/** Session feedback: per session how many ratings, their mean and spread, and the comments (no attendee shown). */

import { useEffect, useState } from "preact/hooks";

import { ApiError, get } from "../api";
import { zone } from "../programme";
import { s } from "../strings";
import { Page, Problem } from "../ui/page";
import { formatMoment } from "../zone";

export interface FeedbackSummary {
  sessionId: string;
  title: string;
  start: string;
  count: number;
  mean: number | null;
  distribution: number[];
  comments: number;
  offTheRecord: boolean;
  cancelled: boolean;
}

interface SessionFeedback {
  summary: FeedbackSummary;
  comments: { rating: number; comment: string }[];
}

function Comments({ summary }: { summary: FeedbackSummary }) {
  const [found, setFound] = useState<SessionFeedback | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    get<SessionFeedback>(`/api/admin/feedback/${encodeURIComponent(summary.sessionId)}`)
      .then(setFound)
      .catch((error: unknown) => setProblem(error instanceof ApiError ? error.detail : String(error)));
  }, [summary.sessionId]);
  if (problem) return <Problem>{problem}</Problem>;
  if (!found) return <p class="loading">{s.loading}</p>;
  return (
    <div class="feedback-comments">
      {summary.offTheRecord && <p class="feedback-warning">{s.feedbackOffRecord}</p>}
      {/* Comments are attendees' text: rendered as text, never as markup or links. */}
      <ul aria-label={s.feedbackCommentsOf(summary.title)}>
        {found.comments.map((item, index) => (
          <li key={index}>
            <span class="feedback-comment-rating">{s.feedbackRatedStars(item.rating)}</span>
            <p class="feedback-comment-text">{item.comment}</p>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function FeedbackView() {
  const [summaries, setSummaries] = useState<FeedbackSummary[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const tz = zone.value;
  useEffect(() => {
    get<FeedbackSummary[]>("/api/admin/feedback")
      .then(setSummaries)
      .catch((error: unknown) => setProblem(error instanceof ApiError ? error.detail : String(error)));
  }, []);

  return (
    <Page
      title={s.feedbackTitle}
      lead={s.feedbackLead}
      actions={
        <a class="button" href="/api/admin/feedback.csv" download="feedback.csv">
          {s.feedbackExport}
        </a>
      }
    >
      {problem && <Problem>{problem}</Problem>}
      {summaries === null ? (
        !problem && <p class="loading">{s.loading}</p>
      ) : summaries.length === 0 ? (
        <p class="empty">{s.feedbackNone}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{s.feedbackSession}</th>
                <th scope="col">{s.feedbackCount}</th>
                <th scope="col">{s.feedbackMean}</th>
                <th scope="col">{s.feedbackDistribution}</th>
              </tr>
            </thead>
            <tbody>
              {summaries.map((item) => (
                <>
                  <tr key={item.sessionId}>
                    <th scope="row">
                      <span class="feedback-title">{item.title || item.sessionId}</span>
                      {item.start && <span class="muted">{formatMoment(item.start, tz)}</span>}
                      {item.comments > 0 && (
                        <button
                          type="button"
                          class="button button-small"
                          aria-expanded={open === item.sessionId}
                          onClick={() => setOpen(open === item.sessionId ? null : item.sessionId)}
                        >
                          {open === item.sessionId ? s.feedbackHideComments(item.title) : s.feedbackShowComments(item.comments, item.title)}
                        </button>
                      )}
                    </th>
                    <td>{item.count}</td>
                    <td>{item.mean === null ? "–" : item.mean.toFixed(2)}</td>
                    <td>{s.feedbackDistributionOf(item.distribution)}</td>
                  </tr>
                  {open === item.sessionId && (
                    <tr key={`${item.sessionId}-comments`}>
                      <td colSpan={4}>
                        <Comments summary={item} />
                      </td>
                    </tr>
                  )}
                </>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

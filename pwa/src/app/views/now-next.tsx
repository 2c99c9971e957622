/** Now & next: the start page. What runs now and in the next hour; before or after the event, how it opens. */

import type { Session } from "../../shared/types";
import { instant } from "../../shared/feed";
import { localized } from "../content";
import { nowAndNext, type Model } from "../model";
import { lang, locale, t } from "../prefs";
import { query } from "../router";
import { model, now } from "../store";
import { formatDayLong, formatDayRange, formatDayShort, minutesUntil } from "../time";
import { SessionCard } from "../ui/common";
import { LiveIcon } from "../ui/icons";
import { Page } from "../ui/page";

/** `?at=2024-07-23T09:00:00%2B08:00` shows the page as at that moment (for rehearsals and screenshots). */
function currentTime(): number {
  const at = query.value.get("at");
  const parsed = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(parsed) ? now.value : parsed;
}

function WatchLive({ session }: { session: Session }) {
  if (!session.streamUrl) return null;
  return (
    <a class="button button-small" href={session.streamUrl} target="_blank" rel="noopener noreferrer">
      <LiveIcon />
      {t.value.watchLive}
    </a>
  );
}

function SessionList({ model, sessions, at, running }: { model: Model; sessions: Session[]; at: number; running: boolean }) {
  const messages = t.value;
  return (
    <ul class="cards">
      {sessions.map((session) => (
        <SessionCard
          key={session.id}
          model={model}
          session={session}
          extra={
            <p class="card-when">
              {running
                ? messages.endsIn(minutesUntil(at, instant(session.end)))
                : instant(session.start) > at && instant(session.start) - at <= 3_600_000
                  ? messages.startsIn(minutesUntil(at, instant(session.start)))
                  : null}
            </p>
          }
          actions={<WatchLive session={session} />}
        />
      ))}
    </ul>
  );
}

export function NowNextView() {
  const messages = t.value;
  const current = model.value;
  return (
    <Page title={messages.nowTitle}>
      {current && <NowNextContent model={current} />}
    </Page>
  );
}

function NowNextContent({ model }: { model: Model }) {
  const messages = t.value;
  const at = currentTime();
  const view = nowAndNext(model, at);
  const event = model.programme.event;
  const eventName = event ? localized(event, "name", lang.value) : "";
  const first = model.days[0];
  const last = model.days[model.days.length - 1];
  return (
    <>
      {eventName && <p class="lead">{eventName}</p>}
      {view.phase === "before" && first && (
        <p class="callout">{messages.conferenceStarts(formatDayShort(first, locale.value))}</p>
      )}
      {view.phase === "after" && first && last && (
        <p class="callout">{messages.conferenceEnded(formatDayRange(first, last, locale.value))}</p>
      )}
      {view.running.length > 0 && (
        <section aria-labelledby="now-running">
          <h2 id="now-running">{messages.happeningNow}</h2>
          <SessionList model={model} sessions={view.running} at={at} running />
        </section>
      )}
      {view.soon.length > 0 && (
        <section aria-labelledby="now-soon">
          <h2 id="now-soon">{messages.startingSoon}</h2>
          <SessionList model={model} sessions={view.soon} at={at} running={false} />
        </section>
      )}
      {view.running.length === 0 && view.soon.length === 0 && (
        <section aria-labelledby="now-later">
          {view.phase === "during" && <p class="callout">{view.later.length ? messages.nothingNow : messages.doneForToday}</p>}
          {view.later.length > 0 && view.laterDay && (
            <>
              <h2 id="now-later">
                {view.phase === "during" ? messages.comingUp : messages.firstDayOpens}
                <span class="heading-note"> · {formatDayLong(view.laterDay, locale.value)}</span>
              </h2>
              <SessionList model={model} sessions={view.later} at={at} running={false} />
              <p>
                <a class="more-link" href={`/programme?day=${view.laterDay}`}>
                  {messages.wholeDay}
                </a>
              </p>
            </>
          )}
        </section>
      )}
    </>
  );
}

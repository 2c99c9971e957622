/**
 * Now & next: the start page. On top, the attendee's next session from My agenda (or, with an empty
 * agenda, what starts next); then what runs now and starts within the hour as compact rows; then the rest
 * of the day. Before or after the event, how it opens.
 */

import type { Session } from "../../shared/types";
import { instant } from "../../shared/feed";
import { localized } from "../content";
import { groupSlots, nowAndNext, type Model } from "../model";
import { lang, locale, t } from "../prefs";
import { knownBookmarks } from "../agenda-hint";
import { displayZone, model } from "../store";
import { dayKey, formatDayLong, formatDayRange, formatDayShort, formatTime, minutesUntil } from "../time";
import { appNow } from "../ui/clock";
import { SessionRow, langOf } from "../ui/common";
import { LiveIcon, PinIcon } from "../ui/icons";
import { Page } from "../ui/page";

const HOUR = 3_600_000;
/** A stream is worth a button from this long before its session starts. */
export const STREAM_OPENS_MS = 15 * 60_000;

/** "Watch live" only while the session runs, or from a quarter of an hour before. */
export function streamOpen(session: Session, at: number): boolean {
  return (
    Boolean(session.streamUrl) &&
    session.status !== "cancelled" &&
    instant(session.start) - STREAM_OPENS_MS <= at &&
    at < instant(session.end)
  );
}

export function WatchLive({ session, at, small = true }: { session: Session; at: number; small?: boolean }) {
  if (!session.streamUrl || !streamOpen(session, at)) return null;
  return (
    <a class={small ? "button button-small" : "button"} href={session.streamUrl} target="_blank" rel="noopener noreferrer">
      <LiveIcon />
      {t.value.watchLive}
    </a>
  );
}

/** The bookmarked session running now, else the next one to start (cancelled ones left out). */
function nextBookmarked(model: Model, at: number): Session | null {
  const saved = knownBookmarks.value;
  let running: Session | null = null;
  let next: Session | null = null;
  for (const session of model.programme.sessions) {
    if (!saved.has(session.id) || session.status === "cancelled") continue;
    const start = instant(session.start);
    if (start <= at && at < instant(session.end)) {
      if (!running || start > instant(running.start)) running = session;
    } else if (start > at && (!next || start < instant(next.start))) next = session;
  }
  return running ?? next;
}

function NextSessionCard({ model, session, at }: { model: Model; session: Session; at: number }) {
  const messages = t.value;
  const zone = displayZone.value;
  const room = model.rooms.get(session.roomId);
  const start = instant(session.start);
  const running = start <= at;
  const track = session.trackId ? model.tracks.get(session.trackId) : undefined;
  const sameDay = dayKey(start, model.zone) === dayKey(at, model.zone);
  const when = `${sameDay ? "" : `${formatDayShort(dayKey(start, model.zone), locale.value)}, `}${formatTime(start, zone, locale.value)}–${formatTime(session.end, zone, locale.value)}`;
  const countdown = running
    ? messages.endsIn(minutesUntil(at, instant(session.end)))
    : start - at <= 12 * HOUR
      ? messages.startsIn(minutesUntil(at, start))
      : null;
  return (
    <section class="next-card" aria-labelledby="next-session" style={track?.colour ? { "--track": track.colour } : undefined}>
      <h2 id="next-session" class="next-label">
        {running ? messages.yourSessionNow : messages.yourNextSession}
      </h2>
      <p class="next-title">
        <a href={`/sessions/${encodeURIComponent(session.id)}`} lang={langOf(session, "title")}>
          {localized(session, "title", lang.value)}
        </a>
      </p>
      <p class="next-when">
        <span class="nowrap">{when}</span>
        {countdown && <strong class="next-countdown"> · {countdown}</strong>}
      </p>
      {room && (
        <p class="next-where">
          <PinIcon />
          <a href={`/map?room=${encodeURIComponent(room.id)}`}>
            {localized(room, "name", lang.value)}
            {room.floor && <span class="muted">, {room.floor}</span>}
          </a>
        </p>
      )}
      <WatchLive session={session} at={at} />
    </section>
  );
}

function Rows({ model, sessions, at, id, title }: { model: Model; sessions: Session[]; at: number; id: string; title: string }) {
  const zone = displayZone.value;
  if (sessions.length === 0) return null;
  return (
    <section aria-labelledby={id}>
      <h2 id={id} class="rows-heading">
        {title}
      </h2>
      <ul class="rows">
        {sessions.map((session) => (
          <SessionRow
            key={session.id}
            model={model}
            session={session}
            lead={formatTime(session.start, zone, locale.value)}
            withFloor
            extra={
              streamOpen(session, at) ? (
                <span class="row-actions">
                  <WatchLive session={session} at={at} />
                </span>
              ) : null
            }
          />
        ))}
      </ul>
    </section>
  );
}

export function NowNextView() {
  const messages = t.value;
  const current = model.value;
  return <Page title={messages.nowTitle}>{current && <NowNextContent model={current} />}</Page>;
}

/** Sessions of the day after those shown, a few slots of them: the rest is one tap away in the programme. */
const LATER_SLOTS = 3;

function NowNextContent({ model }: { model: Model }) {
  const messages = t.value;
  const at = appNow.value;
  const view = nowAndNext(model, at);
  const first = model.days[0];
  const last = model.days[model.days.length - 1];
  const mine = nextBookmarked(model, at);
  const today = dayKey(at, model.zone);
  const scheduled = model.programme.sessions.filter((s) => s.status !== "cancelled");
  // With an empty agenda, the sessions of the next start time lead the page.
  const nextStart = mine ? null : groupSlots(scheduled.filter((s) => instant(s.start) > at))[0];
  const upNext = nextStart && view.phase !== "after" ? nextStart.sessions : [];
  const leading = new Set(upNext.map((s) => s.id));
  const soon = view.soon.filter((s) => !leading.has(s.id));
  const laterToday = groupSlots(
    (model.byDay.get(today) ?? []).filter((s) => s.status !== "cancelled" && instant(s.start) > at + HOUR && !leading.has(s.id)),
  )
    .slice(0, LATER_SLOTS)
    .flatMap((slot) => slot.sessions);
  return (
    <>
      {view.phase === "before" && first && <p class="callout">{messages.conferenceStarts(formatDayShort(first, locale.value))}</p>}
      {view.phase === "after" && first && last && (
        <p class="callout">{messages.conferenceEnded(formatDayRange(first, last, locale.value))}</p>
      )}
      {mine && <NextSessionCard model={model} session={mine} at={at} />}
      {upNext.length > 0 && view.phase === "during" && (
        <Rows model={model} sessions={upNext} at={at} id="now-next-start" title={messages.startingNext} />
      )}
      <Rows model={model} sessions={view.running} at={at} id="now-running" title={messages.happeningNow} />
      <Rows model={model} sessions={soon} at={at} id="now-soon" title={messages.startingSoon} />
      {view.phase === "during" && <Rows model={model} sessions={laterToday} at={at} id="now-later-today" title={messages.laterToday} />}
      {view.running.length === 0 && view.soon.length === 0 && laterToday.length === 0 && (
        <div>
          {view.phase === "during" && <p class="callout">{view.later.length ? messages.nothingNow : messages.doneForToday}</p>}
          {view.laterDay && (
            <Rows
              model={model}
              sessions={view.later.filter((s) => !leading.has(s.id))}
              at={at}
              id="now-later"
              title={`${view.phase === "during" ? messages.comingUp : messages.firstDayOpens} · ${formatDayLong(view.laterDay, locale.value)}`}
            />
          )}
        </div>
      )}
      <p>
        <a class="more-link" href={`/programme?day=${model.days.includes(today) ? today : (view.laterDay ?? first ?? "")}`}>
          {messages.wholeDay}
        </a>
      </p>
    </>
  );
}

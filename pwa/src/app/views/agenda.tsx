/**
 * My agenda: bookmarked sessions by day, clashes flagged; kept in the profile document, synced across
 * devices. Below it, the agenda as a calendar feed to subscribe to, and the whole programme as a file.
 */

import { useEffect, useState } from "preact/hooks";

import { TimeoutError } from "../../shared/http";
import {
  createCalendarFeed,
  followCalendarLanguage,
  deleteCalendarFeed,
  savedCalendarFeed,
  type CalendarFeed,
} from "../../shared/private-api";
import { findOverlaps } from "../agenda";
import { localized } from "../content";
import { groupSlots, type Model } from "../model";
import { lang, locale, t } from "../prefs";
import { bookmarks, model, toggleBookmark } from "../store";
import { NotesIcon } from "../notes/lazy";
import { agendaOnServer, docsReady, identityState } from "../notes/state";
import { dayKey, formatDayLong } from "../time";
import { SessionCard } from "../ui/common";
import { WarningIcon } from "../ui/icons";
import { Page } from "../ui/page";

export function AgendaView() {
  const current = model.value;
  return (
    <Page title={t.value.agendaTitle}>
      <p class="agenda-notes-link">
        <a href="/notes">
          <NotesIcon /> {t.value["notes.nav"]}
        </a>
      </p>
      {current && <AgendaContent model={current} />}
      <CalendarLinks />
    </Page>
  );
}

/**
 * Subscribe to my agenda in a calendar app (once this device syncs, i.e. has an attendee), and
 * download the whole programme. The feed's secret address is kept on the device: asking the server
 * again would turn off the address a calendar already follows.
 */
function CalendarLinks() {
  const messages = t.value;
  const active = identityState.value === "active";
  const [feed, setFeed] = useState<CalendarFeed | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    if (active) void savedCalendarFeed().then((saved) => live && setFeed(saved));
    return () => {
      live = false;
    };
  }, [active]);
  const language = lang.value;
  useEffect(() => {
    // A feed made here follows the app's language: the calendar shows the programme in it.
    if (active && feed) void followCalendarLanguage(language).catch(() => undefined);
  }, [active, feed, language]);

  async function run(action: () => Promise<CalendarFeed | null>): Promise<void> {
    setBusy(true);
    setStatus(null);
    try {
      setFeed(await action());
    } catch (error) {
      const offline = error instanceof TimeoutError || error instanceof TypeError || !navigator.onLine;
      setStatus(offline ? messages["device.needsConnection"] : messages["device.failed"]);
    } finally {
      setBusy(false);
    }
  }

  async function copy(url: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(url);
      setStatus(messages["calendar.copied"]);
    } catch {
      setStatus(messages["calendar.copyFailed"]);
    }
  }

  return (
    <section aria-labelledby="agenda-calendar" class="agenda-calendar">
      <h2 id="agenda-calendar">{messages["calendar.title"]}</h2>
      {!active && <p class="muted">{messages["calendar.needsSync"]}</p>}
      {active && !agendaOnServer.value && (
        <p class="muted">
          {messages["calendar.agendaPrivate"]} <a href="/device#agenda-privacy">{messages["device.agendaTitle"]}</a>
        </p>
      )}
      {active && agendaOnServer.value && !feed && (
        <>
          <p>{messages["calendar.subscribeHint"]}</p>
          <button type="button" class="button button-primary" disabled={busy} onClick={() => void run(() => createCalendarFeed(lang.value))}>
            {busy ? messages["device.working"] : messages["calendar.subscribe"]}
          </button>
        </>
      )}
      {active && agendaOnServer.value && feed && (
        <>
          <p>
            <a class="button button-primary" href={feed.webcalUrl}>
              {messages["calendar.open"]}
            </a>
          </p>
          <label class="field">
            <span class="field-label">{messages["calendar.address"]}</span>
            <input type="url" readOnly value={feed.url} onFocus={(event) => event.currentTarget.select()} />
          </label>
          <p class="muted">{messages["calendar.private"]}</p>
          <p class="calendar-actions">
            <button type="button" class="button button-small" onClick={() => void copy(feed.url)}>
              {messages["calendar.copy"]}
            </button>
            <button
              type="button"
              class="button button-small button-quiet"
              disabled={busy}
              onClick={() => void run(() => deleteCalendarFeed().then(() => null))}
            >
              {messages["calendar.stop"]}
            </button>
          </p>
        </>
      )}
      <div role="status">{status && <p class="callout">{status}</p>}</div>
      <p>
        <a href="/api/schedule.ics">{messages["calendar.download"]}</a>
      </p>
    </section>
  );
}

function AgendaContent({ model }: { model: Model }) {
  const messages = t.value;
  const saved = model.programme.sessions.filter((session) => bookmarks.value.has(session.id));
  if (!docsReady.value) return <p class="loading">{messages.loading}</p>;
  if (saved.length === 0) {
    return (
      <div class="empty-state">
        <p class="empty-title">{messages.agendaEmpty}</p>
        <p>{messages.agendaEmptyHint}</p>
      </div>
    );
  }
  const overlaps = findOverlaps(saved);
  const days = new Map<string, typeof saved>();
  for (const session of saved) {
    const day = dayKey(session.start, model.zone);
    days.set(day, [...(days.get(day) ?? []), session]);
  }
  return (
    <>
      <p class="muted">{messages.agendaKept}</p>
      {[...days.entries()].map(([day, sessions]) => (
        <section key={day} aria-labelledby={`agenda-${day}`}>
          <h2 id={`agenda-${day}`}>{formatDayLong(day, locale.value)}</h2>
          <ul class="cards">
            {groupSlots(sessions)
              .flatMap((slot) => slot.sessions)
              .map((session) => {
                const clashes = overlaps.get(session.id) ?? [];
                return (
                  <SessionCard
                    key={session.id}
                    model={model}
                    session={session}
                    hideSaved
                    extra={clashes.map((other) => (
                      <p class="overlap" key={other.id}>
                        <WarningIcon />
                        {messages.overlapsWith(localized(other, "title", lang.value))}
                      </p>
                    ))}
                    actions={
                      <button
                        type="button"
                        class="button button-small button-quiet"
                        aria-label={messages.removeTitleFromAgenda(localized(session, "title", lang.value))}
                        onClick={() => void toggleBookmark(session.id)}
                      >
                        {messages.remove}
                      </button>
                    }
                  />
                );
              })}
          </ul>
        </section>
      ))}
    </>
  );
}

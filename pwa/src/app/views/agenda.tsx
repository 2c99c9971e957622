/** My agenda: bookmarked sessions by day, clashes flagged; kept in the profile document, synced across devices. */

import { findOverlaps } from "../agenda";
import { localized } from "../content";
import { groupSlots, type Model } from "../model";
import { lang, locale, t } from "../prefs";
import { bookmarks, model, toggleBookmark } from "../store";
import { NotesIcon } from "../notes/lazy";
import { docsReady } from "../notes/state";
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
    </Page>
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

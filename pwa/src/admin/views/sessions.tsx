/** The sessions of the programme: searchable list with warnings, cancel and delete. */

import { useState } from "preact/hooks";

import type { Session } from "../../shared/types";
import { ApiError } from "../api";
import { cancelSession, deleteEntity } from "../entities";
import { nameOf, programme, warnings, warningsBySession, zone, type Warning } from "../programme";
import { editPath } from "../router";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { focusAfterRemoval, matches, Page, Problem, SearchBox } from "../ui/page";
import { announce } from "../ui/status";
import { formatClock, formatDay, zoneLabel } from "../zone";
import { ProgrammeGate } from "./programme-gate";

export function warningLabel(warning: Warning): string {
  if (warning.kind === "room-double-booked") return s.roomDoubleBooked;
  if (warning.kind === "speaker-double-booked") return s.speakerDoubleBooked;
  return s.warningBadge;
}

/** The list of scheduling warnings, each naming its sessions with links to them. */
export function WarningList({ items, title, current }: { items: readonly Warning[]; title?: string; current?: string }) {
  if (!items.length) return null;
  return (
    <section class="warnings" aria-labelledby="warnings-title">
      <h2 id="warnings-title" class="warnings-title">
        <span aria-hidden="true">⚠ </span>
        {title ?? s.warningsTitle(items.length)}
      </h2>
      <ul>
        {items.map((warning, index) => {
          const others = warning.sessionIds.filter((id) => id !== current);
          return (
            <li key={`${warning.kind}-${warning.sessionIds.join("-")}-${index}`}>
              <strong>{warningLabel(warning)}:</strong> {warning.message}
              <span class="warning-links">
                {s.openSessions}{" "}
                {others.map((id, i) => (
                  <span key={id}>
                    {i > 0 && " · "}
                    <a href={editPath("sessions", id)}>{programme.value?.sessions.find((session) => session.id === id)?.title ?? id}</a>
                  </span>
                ))}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function SessionRow({ session, onProblem }: { session: Session; onProblem: (text: string | null) => void }) {
  const tz = zone.value;
  const rowWarnings = warningsBySession.value.get(session.id) ?? [];
  const cancelled = session.status === "cancelled";

  const cancel = async () => {
    const ok = await confirmAction({ title: s.confirmCancelTitle(session.title), text: s.confirmCancelText, confirm: s.cancelSession });
    if (!ok) return;
    try {
      await cancelSession(session.id);
      onProblem(null);
      announce(s.sessionCancelled(session.title));
      // The Cancel button is gone from the row: focus stays on the row's title.
      focusAfterRemoval(`a.row-title[href="${CSS.escape(editPath("sessions", session.id))}"]`);
    } catch (error) {
      onProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };
  const remove = async () => {
    const ok = await confirmAction({ title: s.confirmDeleteTitle(session.title), text: s.confirmDeleteText, confirm: s.delete });
    if (!ok) return;
    try {
      await deleteEntity("sessions", session.id);
      onProblem(null);
      announce(s.deleted(session.title));
      focusAfterRemoval();
    } catch (error) {
      onProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  return (
    <tr class={cancelled ? "is-cancelled" : undefined}>
      <td class="when">
        <span class="when-day">{formatDay(session.start, tz)}</span>{" "}
        <span class="nowrap">
          <time dateTime={session.start}>{formatClock(session.start, tz)}</time>–<time dateTime={session.end}>{formatClock(session.end, tz)}</time>
        </span>
      </td>
      <td>
        <a href={editPath("sessions", session.id)} class="row-title">
          {session.title}
        </a>
        {rowWarnings.length > 0 && (
          <ul class="row-warnings">
            {rowWarnings.map((warning, index) => (
              <li key={index} class="badge badge-warning">
                <span aria-hidden="true">⚠ </span>
                {warningLabel(warning)}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>{nameOf("rooms", session.roomId)}</td>
      <td>{cancelled ? <span class="badge badge-cancelled">{s.cancelled}</span> : s.scheduled}</td>
      <td class="row-actions">
        {!cancelled && (
          <button type="button" class="button button-small" aria-label={s.cancelSessionNamed(session.title)} onClick={() => void cancel()}>
            {s.cancelShort}
          </button>
        )}
        <button type="button" class="button button-small button-danger-quiet" aria-label={s.deleteNamed(session.title)} onClick={() => void remove()}>
          {s.delete}
        </button>
      </td>
    </tr>
  );
}

export function SessionsView() {
  const [query, setQuery] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <Page
      title={s.sessionsTitle}
      actions={
        <a class="button button-primary" href={editPath("sessions", null)}>
          {s.newSession}
        </a>
      }
    >
      <ProgrammeGate>
        {() => {
          const all = programme.value!.sessions;
          const shown = all.filter((session) =>
            matches(query, session.title, session.subtitle, nameOf("rooms", session.roomId), nameOf("tracks", session.trackId), ...(session.speakerIds ?? []).map((id) => nameOf("speakers", id))),
          );
          return (
            <>
              <WarningList items={warnings.value} />
              {problem && <Problem>{problem}</Problem>}
              <div class="list-tools">
                <SearchBox label={s.searchSessions} value={query} onValue={setQuery} />
                <p class="muted" role="status">
                  {s.sessionsCount(shown.length)} · {zoneLabel(zone.value)}
                </p>
              </div>
              {shown.length === 0 ? (
                <p class="empty">{s.noMatches}</p>
              ) : (
                <div class="table-wrap">
                  <table class="table">
                    <caption class="visually-hidden">{s.sessionsTitle}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{s.colWhen}</th>
                        <th scope="col">{s.colTitle}</th>
                        <th scope="col">{s.colRoom}</th>
                        <th scope="col">{s.colStatus}</th>
                        <th scope="col">
                          <span class="visually-hidden">{s.colActions}</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {shown.map((session) => (
                        <SessionRow key={session.id} session={session} onProblem={setProblem} />
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </ProgrammeGate>
    </Page>
  );
}

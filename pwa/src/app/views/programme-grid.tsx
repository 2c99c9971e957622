/**
 * The room × time grid of one day: a real table (rooms as column headers, start times as row headers) so
 * screen readers announce where and when each session is; both axes stay in view while it scrolls, and the
 * arrow keys move between sessions.
 */

import { instant } from "../../shared/feed";
import type { Session } from "../../shared/types";
import { localized } from "../content";
import type { Model } from "../model";
import { lang, locale, t } from "../prefs";
import { bookmarks, displayZone } from "../store";
import { formatDayLong, formatTime } from "../time";
import { BookmarkIcon } from "../ui/icons";
import { langOf } from "../ui/common";

interface Cell {
  sessions: Session[];
  span: number;
}

/** Move focus to the nearest session link in the arrow's direction. */
function onArrow(event: KeyboardEvent): void {
  const directions: Record<string, [number, number]> = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  const direction = directions[event.key];
  const from = event.target as HTMLElement;
  if (!direction || !(from instanceof HTMLAnchorElement)) return;
  const table = event.currentTarget as HTMLElement;
  const here = from.getBoundingClientRect();
  const [dx, dy] = direction;
  let best: HTMLElement | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const link of table.querySelectorAll<HTMLElement>("td a")) {
    if (link === from) continue;
    const box = link.getBoundingClientRect();
    const along = dx ? (box.left - here.left) * dx : (box.top - here.top) * dy;
    if (along <= 1) continue;
    const across = dx ? Math.abs(box.top - here.top) : Math.abs(box.left - here.left);
    const score = along + across * 3;
    if (score < bestScore) {
      bestScore = score;
      best = link;
    }
  }
  if (!best) return;
  event.preventDefault();
  best.focus();
  best.scrollIntoView({ block: "nearest", inline: "nearest" });
}

export function ProgrammeGrid({ model, sessions, day, at }: { model: Model; sessions: Session[]; day: string; at: number | null }) {
  const messages = t.value;
  const zone = displayZone.value;
  const used = new Set(sessions.map((s) => s.roomId));
  const rooms = [...model.programme.rooms].filter((room) => used.has(room.id)).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const starts = [...new Set(sessions.map((s) => instant(s.start)))].sort((a, b) => a - b);
  const row = new Map(starts.map((start, index) => [start, index]));
  // cells[room][row]: a session block starting there, or null where an earlier one still runs.
  const cells = new Map<string, (Cell | null | undefined)[]>(rooms.map((room) => [room.id, []]));
  for (const session of sessions) {
    const column = cells.get(session.roomId)!;
    const first = row.get(instant(session.start))!;
    const end = instant(session.end);
    let span = 1;
    while (first + span < starts.length && starts[first + span]! < end) span += 1;
    const cell = column[first];
    if (cell) {
      cell.sessions.push(session);
      cell.span = Math.max(cell.span, span);
    } else column[first] = { sessions: [session], span };
  }
  for (const column of cells.values()) {
    for (let index = 0; index < starts.length; index += 1) {
      const cell = column[index];
      if (!cell) continue;
      for (let covered = 1; covered < cell.span; covered += 1) {
        // A session starts there in the same room: the block stops short of it.
        if (column[index + covered]) {
          cell.span = covered;
          break;
        }
        column[index + covered] = null;
      }
    }
  }
  return (
    <div class="grid-scroll" tabIndex={-1}>
      <table class="programme-grid" onKeyDown={onArrow}>
        <caption class="visually-hidden">{messages.gridCaption(formatDayLong(day, locale.value))}</caption>
        <thead>
          <tr>
            <th scope="col" class="grid-corner">
              {messages.time}
            </th>
            {rooms.map((room) => (
              <th scope="col" key={room.id}>
                {localized(room, "name", lang.value)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {starts.map((start, index) => (
            <tr key={start} class={at !== null && start <= at && (starts[index + 1] ?? Number.POSITIVE_INFINITY) > at ? "is-now" : undefined}>
              <th scope="row">{formatTime(start, zone, locale.value)}</th>
              {rooms.map((room) => {
                const cell = cells.get(room.id)![index];
                if (cell === null) return null;
                if (cell === undefined) return <td key={room.id} />;
                return (
                  <td key={room.id} rowSpan={cell.span}>
                    {cell.sessions.map((session) => (
                      <div
                        key={session.id}
                        class={`grid-session${session.status === "cancelled" ? " is-cancelled" : ""}${at !== null && instant(session.end) <= at ? " is-past" : ""}`}
                        style={session.trackId ? { "--track": model.tracks.get(session.trackId)?.colour } : undefined}
                      >
                        <a href={`/sessions/${encodeURIComponent(session.id)}`} lang={langOf(session, "title")}>
                          {localized(session, "title", lang.value)}
                        </a>
                        <span class="grid-time">
                          {formatTime(session.start, zone, locale.value)}–{formatTime(session.end, zone, locale.value)}
                          {session.status === "cancelled" && ` · ${messages.cancelled}`}
                          {bookmarks.value.has(session.id) && (
                            <>
                              {" "}
                              <BookmarkIcon filled />
                              <span class="visually-hidden">{messages.inAgenda}</span>
                            </>
                          )}
                        </span>
                      </div>
                    ))}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The room × time grid of one day: a real table (rooms as column headers, start times as row headers) so
 * screen readers announce where and when each session is; both axes stay in view while it scrolls, and the
 * arrow keys move between sessions.
 *
 * A big day (a FOSDEM-sized programme has 40 rooms and dozens of start times) is windowed both ways: rows
 * have one fixed height and columns one fixed width, only the rows and columns around the scroll box's view
 * are in the page, and spacers stand for the rest. The table then says how big it really is
 * (aria-rowcount, aria-colcount) and where each row and cell stands (aria-rowindex, aria-colindex).
 */

import { useLayoutEffect, useRef, useState } from "preact/hooks";

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

/** Grids up to this many cells (start times × rooms) are rendered whole, with rows as tall as their text. */
const WHOLE_BELOW_CELLS = 400;
/** A windowed grid's row height and column widths, in rem (programme.css sizes the cells to match). */
const ROW_REM = 5.5;
const COLUMN_REM = 11;
const TIME_REM = 4.5;
/** Rows and columns rendered beyond each edge of the view, so the arrow keys and a quick flick find them. */
const OVERSCAN_ROWS = 3;
const OVERSCAN_COLUMNS = 1;

interface View {
  top: number;
  left: number;
  height: number;
  width: number;
}

function Sessions({ model, cell, at, zone }: { model: Model; cell: Cell; at: number | null; zone: string }) {
  const messages = t.value;
  return (
    <>
      {cell.sessions.map((session) => (
        <div
          key={session.id}
          class={`grid-session${session.status === "cancelled" ? " is-cancelled" : ""}${at !== null && instant(session.end) <= at ? " is-past" : ""}`}
          style={session.trackId ? { "--track": model.tracks.get(session.trackId)?.colour } : undefined}
        >
          <span class="grid-head">
            <a href={`/sessions/${encodeURIComponent(session.id)}`} lang={langOf(session, "title")} data-session={session.id}>
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
          </span>
        </div>
      ))}
    </>
  );
}

/** The first and last (exclusive) of `count` bands of `size` pixels that meet [from, from + length], widened. */
function band(from: number, length: number, size: number, count: number, overscan: number): [number, number] {
  const first = Math.max(0, Math.floor(from / size) - overscan);
  const last = Math.min(count, Math.ceil((from + length) / size) + overscan);
  return [Math.min(first, last), last];
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

  // Where each session stands (room, row, place in its block), and each room's blocks by the row they start in:
  // the arrow keys move by these, so they reach sessions that are not in the page yet.
  const place = new Map<string, [number, number, number]>();
  const blocks = rooms.map((room, column) => {
    const starting: number[] = [];
    cells.get(room.id)!.forEach((cell, index) => {
      if (!cell) return;
      starting.push(index);
      cell.sessions.forEach((session, within) => place.set(session.id, [column, index, within]));
    });
    return starting;
  });
  /** The block in a room's column that runs at `index`, or else the one starting nearest to it. */
  const nearest = (column: number, index: number): number | undefined => {
    let best: number | undefined;
    for (const start of blocks[column]!) {
      const cell = cells.get(rooms[column]!.id)![start]!;
      if (start <= index && index < start + cell.span) return start;
      if (best === undefined || Math.abs(start - index) < Math.abs(best - index)) best = start;
    }
    return best;
  };
  const pending = useRef<string | null>(null);

  const windowed = starts.length * rooms.length > WHOLE_BELOW_CELLS;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<View | null>(null);
  const [rem, setRem] = useState(16);
  // Follow the scroll box's scrolling and size; during the event a windowed day opens at the current time.
  useLayoutEffect(() => {
    const box = scroller.current;
    if (!windowed || !box) return;
    setRem(parseFloat(getComputedStyle(document.documentElement).fontSize) || 16);
    let frame = 0;
    const update = () => {
      frame = 0;
      setView({ top: box.scrollTop, left: box.scrollLeft, height: box.clientHeight, width: box.clientWidth });
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    box.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", schedule);
    return () => {
      box.removeEventListener("scroll", schedule);
      window.removeEventListener("resize", schedule);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [windowed]);
  const nowRow = at === null ? -1 : starts.findIndex((start, index) => start <= at && (starts[index + 1] ?? Number.POSITIVE_INFINITY) > at);
  useLayoutEffect(() => {
    const box = scroller.current;
    if (windowed && box && nowRow > 0) box.scrollTop = nowRow * ROW_REM * rem;
  }, [windowed, day, nowRow >= 0, rem]);

  // Arrow keys: down and up to the next and previous session in the same room, right and left to the session
  // at the same time in the next room (or the one starting nearest to it).
  const onKeyDown = (event: KeyboardEvent) => {
    const from = event.target;
    const here = from instanceof HTMLAnchorElement && from.dataset.session ? place.get(from.dataset.session) : undefined;
    if (!here || event.altKey || event.ctrlKey || event.metaKey) return;
    const [column, index, within] = here;
    const sessionsAt = (col: number, at: number) => cells.get(rooms[col]!.id)![at]!.sessions;
    let target: Session | undefined;
    let to: [number, number] | undefined;
    if (event.key === "ArrowDown") {
      const next = blocks[column]!.find((start) => start > index);
      if (within + 1 < sessionsAt(column, index).length) target = sessionsAt(column, index)[within + 1];
      else if (next !== undefined) to = [column, next];
    } else if (event.key === "ArrowUp") {
      const previous = blocks[column]!.filter((start) => start < index).pop();
      if (within > 0) target = sessionsAt(column, index)[within - 1];
      else if (previous !== undefined) to = [column, previous];
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const next = column + (event.key === "ArrowRight" ? 1 : -1);
      const at = next >= 0 && next < rooms.length ? nearest(next, index) : undefined;
      if (at !== undefined) to = [next, at];
    } else return;
    event.preventDefault();
    if (to) target = sessionsAt(to[0], to[1])[0];
    if (!target) return;
    const box = scroller.current;
    const link = box?.querySelector<HTMLElement>(`a[data-session="${CSS.escape(target.id)}"]`);
    if (link) {
      link.focus();
      link.scrollIntoView({ block: "nearest", inline: "nearest" });
    } else if (box && to) {
      // Not in the page yet: bring its row and room into view, then focus it once rendered.
      pending.current = target.id;
      box.scrollTop = Math.max(0, (to[1] - 1) * ROW_REM * rem);
      box.scrollLeft = Math.max(0, (to[0] - 1) * COLUMN_REM * rem);
      setView({ top: box.scrollTop, left: box.scrollLeft, height: box.clientHeight, width: box.clientWidth });
    }
  };
  // The session the keyboard is on: a block starting above the window moves to the window's first row as it
  // scrolls, so its link is built anew, and focus follows it there instead of falling back to the page.
  const focused = useRef<string | null>(null);
  const onFocusIn = (event: FocusEvent) => {
    focused.current = event.target instanceof HTMLElement ? (event.target.dataset.session ?? null) : null;
  };
  const onFocusOut = (event: FocusEvent) => {
    const left = event.target as Element;
    queueMicrotask(() => {
      // Still in the page: the attendee moved on (a link that left the page keeps its claim).
      if (left.isConnected && !scroller.current?.contains(document.activeElement)) focused.current = null;
    });
  };
  useLayoutEffect(() => {
    const wanted = pending.current ?? (document.activeElement === document.body ? focused.current : null);
    if (!wanted) return;
    const link = scroller.current?.querySelector<HTMLElement>(`a[data-session="${CSS.escape(wanted)}"]`);
    if (!link) return;
    pending.current = null;
    link.focus({ preventScroll: true });
  });

  const rowPx = ROW_REM * rem;
  const columnPx = COLUMN_REM * rem;
  const timePx = TIME_REM * rem;
  // Before the first measurement: the top left corner of a phone-sized view.
  const seen = view ?? { top: 0, left: 0, height: 800, width: 800 };
  const [firstRow, lastRow] = windowed ? band(seen.top, seen.height, rowPx, starts.length, OVERSCAN_ROWS) : [0, starts.length];
  const [firstColumn, lastColumn] = windowed
    ? band(seen.left, seen.width - timePx, columnPx, rooms.length, OVERSCAN_COLUMNS)
    : [0, rooms.length];
  const shownRooms = rooms.slice(firstColumn, lastColumn);
  const before = firstColumn * COLUMN_REM;
  const after = (rooms.length - lastColumn) * COLUMN_REM;
  const pad = (width: number, key: string) => (width > 0 ? <td key={key} class="grid-pad" aria-hidden="true" style={{ width: `${width}rem` }} /> : null);

  /** The block that covers `index` in a room's column, and the row where it starts. */
  const coveringAt = (column: (Cell | null | undefined)[], index: number): [Cell, number] | null => {
    for (let start = index - 1; start >= 0; start -= 1) {
      const cell = column[start];
      if (cell) return start + cell.span > index ? [cell, start] : null;
    }
    return null;
  };

  const rows = [];
  for (let index = firstRow; index < lastRow; index += 1) {
    const start = starts[index]!;
    rows.push(
      <tr key={start} class={index === nowRow ? "is-now" : undefined} aria-rowindex={windowed ? index + 2 : undefined}>
        <th scope="row" aria-colindex={windowed ? 1 : undefined}>
          {formatTime(start, zone, locale.value)}
        </th>
        {pad(before, "before")}
        {shownRooms.map((room, offset) => {
          const column = cells.get(room.id)!;
          let cell = column[index];
          let span = cell?.span ?? 1;
          if (cell === null) {
            // A block that started above the window is shown from the window's first row.
            const covering = index === firstRow ? coveringAt(column, index) : null;
            if (!covering) return null;
            [cell] = covering;
            span = covering[1] + covering[0].span - index;
          }
          const colindex = windowed ? firstColumn + offset + 2 : undefined;
          if (cell === undefined) return <td key={room.id} aria-colindex={colindex} />;
          // A block reaching below the window stops at its last row.
          span = Math.min(span, lastRow - index);
          return (
            <td key={room.id} rowSpan={span} aria-colindex={colindex}>
              {windowed ? (
                <div class="grid-fit" style={{ height: `${span * ROW_REM - 0.4}rem`, "--lines": String(span * 4 - 2) }}>
                  <Sessions model={model} cell={cell} at={at} zone={zone} />
                </div>
              ) : (
                <Sessions model={model} cell={cell} at={at} zone={zone} />
              )}
            </td>
          );
        })}
        {pad(after, "after")}
      </tr>,
    );
  }
  const spacer = (rowCount: number, key: string) =>
    rowCount > 0 ? (
      <tr key={key} class="grid-pad" aria-hidden="true" style={{ height: `${rowCount * ROW_REM}rem` }}>
        <td colSpan={shownRooms.length + 3} />
      </tr>
    ) : null;

  return (
    <div class={windowed ? "grid-scroll is-windowed" : "grid-scroll"} tabIndex={-1} ref={scroller}>
      <table
        class="programme-grid"
        onKeyDown={onKeyDown}
        onFocusIn={onFocusIn}
        onFocusOut={onFocusOut}
        aria-rowcount={windowed ? starts.length + 1 : undefined}
        aria-colcount={windowed ? rooms.length + 1 : undefined}
        style={windowed ? { width: `${TIME_REM + rooms.length * COLUMN_REM}rem` } : undefined}
      >
        <caption class="visually-hidden">{messages.gridCaption(formatDayLong(day, locale.value))}</caption>
        <thead>
          <tr aria-rowindex={windowed ? 1 : undefined}>
            <th scope="col" class="grid-corner" aria-colindex={windowed ? 1 : undefined}>
              {messages.time}
            </th>
            {pad(before, "before")}
            {shownRooms.map((room, offset) => (
              <th scope="col" key={room.id} aria-colindex={windowed ? firstColumn + offset + 2 : undefined}>
                {localized(room, "name", lang.value)}
              </th>
            ))}
            {pad(after, "after")}
          </tr>
        </thead>
        <tbody>
          {spacer(firstRow, "above")}
          {rows}
          {spacer(starts.length - lastRow, "below")}
        </tbody>
      </table>
    </div>
  );
}

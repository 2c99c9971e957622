/**
 * The programme's content, loaded after the first screen (views/programme.tsx frames it): day tabs on one row, a list of time slots that renders only what is on screen and opens at
 * the current slot during the event, a room × time grid on wide screens, filters behind one button, and
 * offline search.
 */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { instant } from "../../shared/feed";
import type { Session } from "../../shared/types";
import { languageLabel, localized } from "../content";
import { groupSlots, type Model, type Slot } from "../model";
import { lang, locale, t } from "../prefs";
import { navigate, query } from "../router";
import { buildIndex, matchSessions, queryTerms } from "../search";
import { displayZone } from "../store";
import { dayKey, formatDayShort, formatTime } from "../time";
import { appNow, gridFirst, gridFits } from "../ui/clock";
import { SessionRow } from "../ui/common";
import { FilterIcon, SearchIcon } from "../ui/icons";
import { VirtualList } from "../ui/virtual";
import { ProgrammeGrid } from "./programme-grid";
import "./programme.css";

const FILTERS = ["theme", "room", "format", "language"] as const;
type Filter = (typeof FILTERS)[number];
/** How long typing pauses, or a day stays chosen, before the address is written (Chromium limits history updates,
 * and each costs a main-thread task). */
const ADDRESS_DELAY_MS = 400;

function withParam(name: string, value: string): string {
  const params = new URLSearchParams(query.value);
  if (value) params.set(name, value);
  else params.delete(name);
  const search = params.toString();
  return `/programme${search ? `?${search}` : ""}`;
}

function setParam(name: string, value: string): void {
  navigate(withParam(name, value), { replace: true });
}

function matchesFilters(session: Session, filters: Record<Filter, string>): boolean {
  return (
    (!filters.theme || session.trackId === filters.theme) &&
    (!filters.room || session.roomId === filters.room) &&
    (!filters.format || session.format === filters.format) &&
    (!filters.language || (session.languages ?? []).includes(filters.language))
  );
}

function DayTabs({ days, selected, today, onSelect }: { days: string[]; selected: string; today: string; onSelect: (day: string) => void }) {
  const list = useRef<HTMLDivElement>(null);
  const select = (day: string, focus: boolean) => {
    onSelect(day);
    if (focus) list.current?.querySelector<HTMLElement>(`[data-day="${day}"]`)?.focus();
  };
  // Keep the selected day in view along the row (sideways only: the page itself stays where it is). Measured
  // after the new day is painted, when the layout is already done, so the switch forces no extra layout.
  useEffect(() => {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timeout = setTimeout(() => {
        const row = list.current;
        const tab = row?.querySelector<HTMLElement>(`[data-day="${selected}"]`);
        if (!row || !tab) return;
        if (tab.offsetLeft < row.scrollLeft) row.scrollLeft = tab.offsetLeft;
        else if (tab.offsetLeft + tab.offsetWidth > row.scrollLeft + row.clientWidth) row.scrollLeft = tab.offsetLeft + tab.offsetWidth - row.clientWidth;
      });
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timeout);
    };
  }, [selected]);
  const onKeyDown = (event: KeyboardEvent) => {
    const index = days.indexOf(selected);
    const next =
      event.key === "ArrowRight"
        ? days[(index + 1) % days.length]
        : event.key === "ArrowLeft"
          ? days[(index - 1 + days.length) % days.length]
          : event.key === "Home"
            ? days[0]
            : event.key === "End"
              ? days[days.length - 1]
              : undefined;
    if (!next) return;
    event.preventDefault();
    select(next, true);
  };
  return (
    <div class="day-tabs" role="tablist" aria-label={t.value.days} ref={list} onKeyDown={onKeyDown}>
      {days.map((day) => (
        <button
          key={day}
          type="button"
          role="tab"
          id={`day-tab-${day}`}
          data-day={day}
          class={day === today ? "is-today" : undefined}
          aria-selected={day === selected}
          aria-controls="day-panel"
          tabIndex={day === selected ? 0 : -1}
          onClick={() => select(day, false)}
        >
          {formatDayShort(day, locale.value)}
        </button>
      ))}
    </div>
  );
}

function FilterSelect({ name, label, value, options }: { name: Filter; label: string; value: string; options: [string, string][] }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <select value={value} onChange={(event) => setParam(name, event.currentTarget.value)}>
        <option value="">{t.value.all}</option>
        {options.map(([id, text]) => (
          <option key={id} value={id}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The list's items, one per slot heading and one per session, so the window holds only what is on screen. */
type Item =
  | { kind: "head"; slot: Slot; past: boolean }
  | { kind: "row"; session: Session; past: boolean }
  | { kind: "now"; at: number };

const NOW_KEY = "now";

function keyOf(item: Item): string {
  return item.kind === "now" ? NOW_KEY : item.kind === "head" ? `t${item.slot.start}` : item.session.id;
}

function estimate(item: Item): number {
  return item.kind === "now" ? 36 : item.kind === "head" ? 36 : 72;
}

/** Slots in time order; on the current day, a "now" line before the first slot that is not over yet. */
function arrange(slots: Slot[], at: number | null): Item[] {
  const items: Item[] = [];
  let marked = at === null;
  for (const slot of slots) {
    const past = at !== null && slot.sessions.every((session) => instant(session.end) <= at);
    if (!marked && !past) {
      items.push({ kind: "now", at: at! });
      marked = true;
    }
    items.push({ kind: "head", slot, past });
    for (const session of slot.sessions) items.push({ kind: "row", session, past });
  }
  if (!marked) items.push({ kind: "now", at: at! });
  return items;
}

function SlotHead({ model, slot, past, withDay }: { model: Model; slot: Slot; past: boolean; withDay: boolean }) {
  const messages = t.value;
  const time = formatTime(slot.start, displayZone.value, locale.value);
  const heading = withDay ? `${formatDayShort(dayKey(slot.start, model.zone), locale.value)}, ${time}` : time;
  return (
    <div class={past ? "slot-head is-past" : "slot-head"}>
      <h2 class="slot-time">{heading}</h2>
      {slot.sessions.length > 1 && <p class="slot-note">{messages.parallelSessions(slot.sessions.length)}</p>}
    </div>
  );
}

function NowLine({ at }: { at: number }) {
  return (
    <p class="now-line" id="now-line" tabIndex={-1}>
      <span>{t.value.nowAt(formatTime(at, displayZone.value, locale.value))}</span>
    </p>
  );
}

function SearchBox({ value, onInput }: { value: string; onInput: (value: string) => void }) {
  const messages = t.value;
  return (
    <label class="field field-search">
      <span class="field-label visually-hidden">{messages.search}</span>
      <span class="search-input">
        <SearchIcon />
        <input
          type="search"
          value={value}
          placeholder={messages.searchHint}
          autocomplete="off"
          enterKeyHint="search"
          onInput={(event) => onInput(event.currentTarget.value)}
        />
      </span>
    </label>
  );
}

export function ProgrammeContent({ model }: { model: Model }) {
  const messages = t.value;
  const params = query.value;
  const addressQ = params.get("q") ?? "";
  // What is typed answers at once; the address follows when typing pauses.
  const [q, setQ] = useState(addressQ);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (addressQ !== q && !timer.current) setQ(addressQ);
  }, [addressQ]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onSearch = (value: string) => {
    setQ(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = undefined;
      // The attendee may have opened a session meanwhile (this view stays until the next one has loaded):
      // the address then belongs to that page, not to the search.
      if (window.location.pathname === "/programme") setParam("q", value);
    }, ADDRESS_DELAY_MS);
  };
  // A day tab answers at once; the address follows a moment later (writing it costs Chromium a main-thread task).
  const addressDay = params.get("day") ?? "";
  const [chosenDay, setChosenDay] = useState(addressDay);
  const dayTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (addressDay !== chosenDay && !dayTimer.current) setChosenDay(addressDay);
  }, [addressDay]);
  useEffect(() => () => clearTimeout(dayTimer.current), []);
  const onDay = (value: string) => {
    setChosenDay(value);
    clearTimeout(dayTimer.current);
    dayTimer.current = setTimeout(() => {
      dayTimer.current = undefined;
      if (window.location.pathname === "/programme") setParam("day", value);
    }, ADDRESS_DELAY_MS);
  };
  // The index is built while the attendee looks at the list, so the first keystroke finds it ready.
  useEffect(() => {
    const idle = window.requestIdleCallback ?? ((callback: () => void) => setTimeout(callback, 200));
    idle(() => buildIndex(model.programme));
  }, [model.programme]);

  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""])) as Record<Filter, string>;
  const active = FILTERS.filter((name) => filters[name]).length;
  const [filtersOpen, setFiltersOpen] = useState(false);
  const at = appNow.value;
  const today = dayKey(at, model.zone);
  const requested = chosenDay;
  const day = model.days.includes(requested) ? requested : model.days.includes(today) ? today : (model.days[0] ?? today);
  const terms = queryTerms(q);
  const searching = terms.length > 0;
  const filtering = active > 0;

  // Searched once per query (not at each render); a day's sessions are already grouped in the model.
  const termsKey = terms.join(" ");
  const pool = useMemo(() => {
    if (!searching) return model.byDay.get(day) ?? [];
    const found = matchSessions(buildIndex(model.programme), terms);
    return model.programme.sessions.filter((s) => found.has(s.id));
  }, [model, searching ? termsKey : day, searching]);
  const shown = useMemo(() => pool.filter((session) => matchesFilters(session, filters)), [pool, ...FILTERS.map((name) => filters[name])]);
  const slots = useMemo(() => groupSlots(shown), [shown]);
  const live = !searching && day === today;
  const items = useMemo(() => arrange(slots, live ? at : null), [slots, live, live ? Math.floor(at / 60_000) : 0]);

  const view = params.get("view");
  const grid = gridFits.value && !searching && (view === "grid" || (view !== "list" && gridFirst.value));
  // During the event the list opens at the current slot; "Jump to now" goes back there.
  const [jump, setJump] = useState<{ key: string; seq: number } | null>(() =>
    live && items[0]?.kind !== "now" && !grid ? { key: NOW_KEY, seq: 0 } : null,
  );
  const jumpToNow = () => {
    if (day !== today) setParam("day", today);
    setJump({ key: NOW_KEY, seq: (jump?.seq ?? 0) + 1 });
    requestAnimationFrame(() => document.getElementById("now-line")?.focus({ preventScroll: true }));
  };

  const languages = useMemo(() => [...new Set(model.programme.sessions.flatMap((s) => s.languages ?? []))].sort(), [model.programme]);
  const usedFormats = useMemo(() => new Set(model.programme.sessions.map((s) => s.format)), [model.programme]);
  const eventRunning = model.days.includes(today);

  return (
    <>
      <div class="toolbar">
        <SearchBox value={q} onInput={onSearch} />
        <button
          type="button"
          class={active ? "button filter-button is-active" : "button button-quiet filter-button"}
          aria-expanded={filtersOpen}
          aria-controls="programme-filters"
          onClick={() => setFiltersOpen(!filtersOpen)}
        >
          <FilterIcon />
          <span>{messages.filterButton}</span>
          {active > 0 && (
            <span class="filter-count">
              <span aria-hidden="true">{active}</span>
              <span class="visually-hidden">{messages.filtersActive(active)}</span>
            </span>
          )}
        </button>
        <fieldset class="filters" id="programme-filters" hidden={!filtersOpen}>
          <legend class="visually-hidden">{messages.filters}</legend>
          <FilterSelect
            name="theme"
            label={messages.theme}
            value={filters.theme}
            options={model.programme.tracks.map((track) => [track.id, localized(track, "name", lang.value)])}
          />
          <FilterSelect
            name="room"
            label={messages.room}
            value={filters.room}
            options={model.programme.rooms.map((room) => [room.id, localized(room, "name", lang.value)])}
          />
          <FilterSelect
            name="format"
            label={messages.format}
            value={filters.format}
            options={model.programme.formats.filter((f) => usedFormats.has(f.id)).map((f) => [f.id, localized(f, "name", lang.value)])}
          />
          <FilterSelect
            name="language"
            label={messages.language}
            value={filters.language}
            options={languages.map((code) => [code, languageLabel(code, lang.value)])}
          />
        </fieldset>
      </div>

      {!searching && <DayTabs days={model.days} selected={day} today={today} onSelect={onDay} />}

      <div class="result-line">
        <span class="result-count" aria-live="polite">
          {searching || filtering ? messages.sessionsCount(shown.length) : ""}
          {searching && shown.length > 0 ? <span class="muted"> · {messages.allDays}</span> : null}
        </span>
        {(searching || filtering) && (
          <button
            type="button"
            class="button button-quiet button-small"
            onClick={() => {
              clearTimeout(timer.current);
              timer.current = undefined;
              setQ("");
              navigate(`/programme?day=${day}`, { replace: true });
            }}
          >
            {messages.clearFilters}
          </button>
        )}
        {eventRunning && !searching && !grid && (
          <button type="button" class="button button-quiet button-small" onClick={jumpToNow}>
            {messages.jumpToNow}
          </button>
        )}
        {gridFits.value && !searching && (
          <a class="button button-quiet button-small" href={withParam("view", grid ? "list" : "grid")}>
            {grid ? messages.showList : messages.showGrid}
          </a>
        )}
      </div>

      <div id="day-panel" role={searching ? undefined : "tabpanel"} aria-labelledby={searching ? undefined : `day-tab-${day}`}>
        {shown.length === 0 ? (
          <p class="empty">{searching || filtering ? messages.noMatches : messages.noSessionsThisDay}</p>
        ) : grid ? (
          <ProgrammeGrid model={model} sessions={shown} day={day} at={live ? at : null} />
        ) : (
          <VirtualList
            items={items}
            keyOf={keyOf}
            kindOf={(item) => item.kind}
            estimate={estimate}
            scrollTo={jump}
            render={(item) =>
              item.kind === "now" ? (
                <NowLine at={item.at} />
              ) : item.kind === "head" ? (
                <SlotHead model={model} slot={item.slot} past={item.past} withDay={searching} />
              ) : (
                <SessionRow as="div" model={model} session={item.session} past={item.past} />
              )
            }
          />
        )}
      </div>
    </>
  );
}

/** Programme: day tabs, time slots with parallel sessions side by side, filters and offline search. */

import { useMemo, useRef } from "preact/hooks";

import type { Session } from "../../shared/types";
import { languageLabel, localized } from "../content";
import { groupSlots, type Model } from "../model";
import { lang, locale, t } from "../prefs";
import { navigate, query } from "../router";
import { buildIndex, matchSessions, queryTerms } from "../search";
import { displayZone, model, now } from "../store";
import { dayKey, formatDayShort, formatTime } from "../time";
import { SessionCard } from "../ui/common";
import { SearchIcon } from "../ui/icons";
import { Page } from "../ui/page";

const FILTERS = ["theme", "room", "format", "language"] as const;
type Filter = (typeof FILTERS)[number];

function setParam(name: string, value: string): void {
  const params = new URLSearchParams(query.value);
  if (value) params.set(name, value);
  else params.delete(name);
  const search = params.toString();
  navigate(`/programme${search ? `?${search}` : ""}`, { replace: true });
}

function matchesFilters(session: Session, filters: Record<Filter, string>): boolean {
  return (
    (!filters.theme || session.trackId === filters.theme) &&
    (!filters.room || session.roomId === filters.room) &&
    (!filters.format || session.format === filters.format) &&
    (!filters.language || (session.languages ?? []).includes(filters.language))
  );
}

function DayTabs({ days, selected }: { days: string[]; selected: string }) {
  const list = useRef<HTMLDivElement>(null);
  const select = (day: string, focus: boolean) => {
    setParam("day", day);
    if (focus) list.current?.querySelector<HTMLElement>(`[data-day="${day}"]`)?.focus();
  };
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

function Slots({ model, sessions, withDay }: { model: Model; sessions: Session[]; withDay: boolean }) {
  const messages = t.value;
  const zone = displayZone.value;
  return (
    <>
      {groupSlots(sessions).map((slot) => {
        const time = formatTime(slot.start, zone, locale.value);
        const heading = withDay ? `${formatDayShort(dayKey(slot.start, model.zone), locale.value)}, ${time}` : time;
        const parallel = slot.sessions.length > 1;
        return (
          <section class="slot" key={slot.start}>
            <div class="slot-head">
              <h2 class="slot-time">{heading}</h2>
              {parallel && <p class="slot-note">{messages.parallelSessions(slot.sessions.length)}</p>}
            </div>
            <ul class={parallel ? "cards cards-parallel" : "cards"}>
              {slot.sessions.map((session) => (
                <SessionCard key={session.id} model={model} session={session} />
              ))}
            </ul>
          </section>
        );
      })}
    </>
  );
}

export function ProgrammeView() {
  const current = model.value;
  return <Page title={t.value.programmeTitle} wide>{current && <ProgrammeContent model={current} />}</Page>;
}

function ProgrammeContent({ model }: { model: Model }) {
  const messages = t.value;
  const params = query.value;
  const q = params.get("q") ?? "";
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""])) as Record<Filter, string>;
  const today = dayKey(now.value, model.zone);
  const requested = params.get("day") ?? "";
  const day = model.days.includes(requested) ? requested : model.days.includes(today) ? today : (model.days[0] ?? today);
  const terms = queryTerms(q);
  const searching = terms.length > 0;
  const index = useMemo(() => (searching ? buildIndex(model.programme) : null), [model.programme, searching]);
  const filtering = FILTERS.some((name) => filters[name]);

  const found = searching && index ? matchSessions(index, terms) : null;
  const pool = found ? model.programme.sessions.filter((s) => found.has(s.id)) : (model.byDay.get(day) ?? []);
  const shown = pool.filter((session) => matchesFilters(session, filters));

  const languages = [...new Set(model.programme.sessions.flatMap((s) => s.languages ?? []))].sort();
  const usedFormats = new Set(model.programme.sessions.map((s) => s.format));

  return (
    <>
      <div class="toolbar">
        <label class="field field-search">
          <span class="field-label">{messages.search}</span>
          <span class="search-input">
            <SearchIcon />
            <input
              type="search"
              value={q}
              placeholder={messages.searchHint}
              autocomplete="off"
              enterKeyHint="search"
              onInput={(event) => setParam("q", event.currentTarget.value)}
            />
          </span>
        </label>
        <fieldset class="filters">
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

      <p class="result-line">
        <span class="result-count" aria-live="polite">
          {searching || filtering ? messages.sessionsCount(shown.length) : ""}
        </span>
        {searching && shown.length > 0 ? <span class="muted"> · {messages.allDays}</span> : null}
      </p>
      {(searching || filtering) && (
        <p>
          <button type="button" class="button button-quiet" onClick={() => navigate(`/programme?day=${day}`, { replace: true })}>
            {messages.clearFilters}
          </button>
        </p>
      )}

      {!searching && <DayTabs days={model.days} selected={day} />}
      <div id="day-panel" role={searching ? undefined : "tabpanel"} aria-labelledby={searching ? undefined : `day-tab-${day}`}>
        {shown.length === 0 ? (
          <p class="empty">{searching || filtering ? messages.noMatches : messages.noSessionsThisDay}</p>
        ) : (
          <Slots model={model} sessions={shown} withDay={searching} />
        )}
      </div>
    </>
  );
}

/** Pieces shared by the views: portraits, session cards, badges, page titles. */

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

import type { Session, Speaker } from "../../shared/types";
import { initials, localized, shownLanguage, staleShown } from "../content";
import type { Model } from "../model";
import { lang, locale, shownLang, t } from "../prefs";
import { bookmarks, contentLanguage, displayZone } from "../store";
import { formatTime } from "../time";
import { BookmarkIcon, LiveIcon, NoCameraIcon } from "./icons";
import { RoomStatusBadge } from "./room-status";

/** Set the document title while a view is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Kumpul` : "Kumpul";
  }, [title]);
}

/** A `lang` attribute for a field shown in another language than the interface, else nothing. */
export function langOf<T extends { translations?: Record<string, Record<string, unknown> | undefined> }>(
  entity: T,
  field: keyof T & string,
): string | undefined {
  const shown = shownLanguage(entity, field, lang.value, contentLanguage.value);
  return shown === shownLang.value ? undefined : shown;
}

/**
 * A discreet note under content shown from a translation whose source changed since it was made: it may be out
 * of date; opening it shows the original of each such field.
 */
export function StaleNote<T extends { translations?: Record<string, Record<string, unknown> | undefined> }>({
  entity,
  fields,
}: {
  entity: T;
  fields: readonly (keyof T & string)[];
}) {
  const messages = t.value;
  const stale = staleShown(entity, fields, lang.value);
  if (!stale.length) return null;
  return (
    <details class="stale-note">
      <summary>
        {messages.staleTranslation} · <span class="stale-open">{messages.staleShowOriginal}</span>
      </summary>
      {stale.map((field) => (
        <p key={field} lang={contentLanguage.value}>
          {String(entity[field])}
        </p>
      ))}
    </details>
  );
}

/** Portrait colours: each keeps white initials at AA contrast. */
const PORTRAIT_COLOURS = ["#1f5f8b", "#6d3b8e", "#a3401c", "#1d6b45", "#7a4a00", "#8a2b4f", "#36508f", "#4d5a18"];

function colourFor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return PORTRAIT_COLOURS[hash % PORTRAIT_COLOURS.length]!;
}

/** Only photos served by Kumpul's own server are shown: no request goes to another origin. */
function ownPhoto(speaker: Speaker): string | null {
  if (speaker.anonymous || !speaker.photoUrl) return null;
  try {
    const url = new URL(speaker.photoUrl, window.location.href);
    return url.origin === window.location.origin ? url.href : null;
  } catch {
    return null;
  }
}

/** A speaker's photo, or their initials in a circle of the same size (no layout shift either way). */
export function Avatar({ speaker, large = false }: { speaker: Speaker; large?: boolean }) {
  const [failed, setFailed] = useState(false);
  const photo = failed ? null : ownPhoto(speaker);
  return (
    <span class={large ? "avatar avatar-large" : "avatar"} style={{ background: colourFor(speaker.name) }} aria-hidden="true">
      <span class="avatar-initials">{initials(speaker.name)}</span>
      {photo && <img src={photo} alt="" loading="lazy" decoding="async" onError={() => setFailed(true)} />}
    </span>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

/** A track's colour as a left stripe and a chip; white text on it is AA by the data's promise. */
export function TrackChip({ model, session }: { model: Model; session: Session }) {
  const track = session.trackId ? model.tracks.get(session.trackId) : undefined;
  if (!track) return null;
  return (
    <span class="chip" style={{ background: track.colour ?? "#5b6770" }}>
      {localized(track, "name", lang.value)}
    </span>
  );
}

export interface SessionCardProps {
  model: Model;
  session: Session;
  /** Heading level of the title inside the page outline. */
  level?: 2 | 3 | 4;
  /** Show the day as well as the time (lists that span days). */
  withDay?: string;
  extra?: ComponentChildren;
  actions?: ComponentChildren;
  /** Leave out the "In my agenda" badge (in My agenda itself it says nothing). */
  hideSaved?: boolean;
}

/** One session in a list: its title is a real link; time, room, theme and state follow. */
export function SessionCard({ model, session, level = 3, withDay, extra, actions, hideSaved = false }: SessionCardProps) {
  const messages = t.value;
  const zone = displayZone.value;
  const room = model.rooms.get(session.roomId);
  const format = model.formats.get(session.format);
  const track = session.trackId ? model.tracks.get(session.trackId) : undefined;
  const cancelled = session.status === "cancelled";
  const saved = !hideSaved && bookmarks.value.has(session.id);
  const Heading = `h${level}` as "h3";
  return (
    <li
      class={`card session-card${cancelled ? " is-cancelled" : ""}`}
      style={track?.colour ? { "--track": track.colour } : undefined}
    >
      <Heading class="card-title">
        <a href={`/sessions/${encodeURIComponent(session.id)}`} lang={langOf(session, "title")}>
          {localized(session, "title", lang.value)}
        </a>
      </Heading>
      <p class="card-meta">
        <span class="nowrap">
          {withDay ? `${withDay}, ` : ""}
          {formatTime(session.start, zone, locale.value)}–{formatTime(session.end, zone, locale.value)}
        </span>
        {room && <span> · {localized(room, "name", lang.value)}</span>}
        {format && <span> · {localized(format, "name", lang.value)}</span>}
      </p>
      <p class="card-badges">
        {cancelled && <Badge kind="cancelled">{messages.cancelled}</Badge>}
        {!cancelled && <RoomStatusBadge roomId={session.roomId} />}
        {saved && (
          <Badge kind="saved">
            <BookmarkIcon filled />
            {messages.inAgenda}
          </Badge>
        )}
        {session.recording === "off-the-record" && (
          <Badge kind="offrecord">
            <NoCameraIcon />
            {messages.offTheRecord}
          </Badge>
        )}
        {session.streamUrl && !cancelled && (
          <Badge kind="live">
            <LiveIcon />
            {messages.liveStream}
          </Badge>
        )}
        <TrackChip model={model} session={session} />
      </p>
      {extra}
      {actions && <div class="card-actions">{actions}</div>}
    </li>
  );
}

/** A status shown instead of content: loading, first visit offline, not found. */
export function Notice({ children }: { children: ComponentChildren }) {
  return <div class="notice">{children}</div>;
}

export interface SessionRowProps {
  model: Model;
  session: Session;
  /** What leads the row: the time (lists that mix times), or nothing when a slot heading says it. */
  lead?: ComponentChildren;
  /** Already over: shown dimmed. */
  past?: boolean;
  /** The room's floor as well. */
  withFloor?: boolean;
  extra?: ComponentChildren;
  /** A list item (the default), or a block of its own (long windowed lists, where rows come and go). */
  as?: "li" | "div";
}

/** One session as a compact row: title (a real link), then time, room and format on one line, and small state marks. */
export function SessionRow({ model, session, lead, past = false, withFloor = false, extra, as: Tag = "li" }: SessionRowProps) {
  const messages = t.value;
  const zone = displayZone.value;
  const room = model.rooms.get(session.roomId);
  const format = model.formats.get(session.format);
  const track = session.trackId ? model.tracks.get(session.trackId) : undefined;
  const cancelled = session.status === "cancelled";
  const saved = bookmarks.value.has(session.id);
  const classes = `session-row${cancelled ? " is-cancelled" : ""}${past ? " is-past" : ""}`;
  return (
    <Tag class={classes} style={track?.colour ? { "--track": track.colour } : undefined}>
      {lead && <span class="row-lead">{lead}</span>}
      <span class="row-body">
        <a class="row-title" href={`/sessions/${encodeURIComponent(session.id)}`} lang={langOf(session, "title")}>
          {localized(session, "title", lang.value)}
        </a>
        <span class="row-meta">
          <span class="nowrap">
            {formatTime(session.start, zone, locale.value)}–{formatTime(session.end, zone, locale.value)}
          </span>
          {room && (
            <span>
              {" · "}
              {localized(room, "name", lang.value)}
              {withFloor && room.floor ? `, ${room.floor}` : ""}
            </span>
          )}
          {format && <span> · {localized(format, "name", lang.value)}</span>}
          {cancelled && (
            <>
              {" "}
              <Badge kind="cancelled">{messages.cancelled}</Badge>
            </>
          )}
          {!cancelled && <RoomStatusBadge roomId={session.roomId} />}
          {saved && (
            <span class="row-mark" title={messages.inAgenda}>
              {" "}
              <BookmarkIcon filled />
              <span class="visually-hidden">{messages.inAgenda}</span>
            </span>
          )}
          {session.streamUrl && !cancelled && (
            <span class="row-mark" title={messages.liveStream}>
              {" "}
              <LiveIcon />
              <span class="visually-hidden">{messages.liveStream}</span>
            </span>
          )}
          {session.recording === "off-the-record" && (
            <span class="row-mark" title={messages.offTheRecord}>
              {" "}
              <NoCameraIcon />
              <span class="visually-hidden">{messages.offTheRecord}</span>
            </span>
          )}
        </span>
        {extra}
      </span>
    </Tag>
  );
}

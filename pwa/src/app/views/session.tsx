/** Session detail: when, where, who, what; recording policy; watching online; my agenda. */

import type { Session } from "../../shared/types";
import { languageLabel, localized, paragraphs } from "../content";
import type { Model } from "../model";
import { deviceZone, lang, locale, t, useLocalTime } from "../prefs";
import { bookmarks, model, toggleBookmark } from "../store";
import { dayKey, formatDayLong, formatTimeRange } from "../time";
import { Avatar, Badge, StaleNote, TrackChip, langOf } from "../ui/common";
import { BookmarkIcon, CalendarIcon, HeadphonesIcon, NoCameraIcon, PinIcon, WarningIcon } from "../ui/icons";
import { Page } from "../ui/page";
import { RoomStatusBadge } from "../ui/room-status";
import { appNow } from "../ui/clock";
import { instant } from "../../shared/feed";
import { WatchLive, streamOpen } from "./now-next";
import { ShareButton } from "./share";
import { SessionNotesSlot } from "../notes/lazy";
import { docsReady } from "../notes/state";
import { SessionFeedbackSlot } from "../feedback/slot";

function When({ model, session }: { model: Model; session: Session }) {
  const messages = t.value;
  const primary = useLocalTime.value ? deviceZone : model.zone;
  const secondary = useLocalTime.value ? model.zone : deviceZone;
  const other = formatTimeRange(session.start, session.end, secondary, locale.value);
  const main = formatTimeRange(session.start, session.end, primary, locale.value);
  return (
    <>
      <span class="fact-main">{formatDayLong(dayKey(session.start, primary), locale.value)}</span>
      <span class="fact-main">{main}</span>
      {primary !== secondary && other !== main && (
        <span class="muted">
          {other} ({useLocalTime.value ? messages.eventTime : messages.yourTime})
        </span>
      )}
    </>
  );
}

function Recording({ session }: { session: Session }) {
  const messages = t.value;
  if (session.recording === "off-the-record") {
    return (
      <div class="off-record" role="note">
        <NoCameraIcon />
        <div>
          <p class="off-record-title">{messages.offTheRecord}</p>
          <p class="off-record-rule">{messages.noPhotosNoRecording}</p>
          <p>{messages.offTheRecordDetail}</p>
        </div>
      </div>
    );
  }
  return null;
}

export function SessionView({ id }: { id: string }) {
  const messages = t.value;
  const current = model.value;
  const session = current?.sessions.get(id);
  if (current && !session) {
    return (
      <Page title={messages.sessionGone}>
        <p>
          <a href="/">{messages.goToStart}</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={session ? localized(session, "title", lang.value) : messages.loading} titleLang={session && langOf(session, "title")}>
      {current && session && <SessionContent model={current} session={session} />}
    </Page>
  );
}

const STALE_FIELDS = ["title", "subtitle", "abstract", "description"] as const;

function SessionContent({ model, session }: { model: Model; session: Session }) {
  const messages = t.value;
  const language = lang.value;
  const room = model.rooms.get(session.roomId);
  const format = model.formats.get(session.format);
  const subtitle = localized(session, "subtitle", language);
  const abstract = localized(session, "abstract", language);
  const description = localized(session, "description", language);
  const saved = bookmarks.value.has(session.id);
  const speakers = (session.speakerIds ?? []).map((id) => model.speakers.get(id)).filter((s) => s !== undefined);
  const interpretation = Object.entries(session.interpretation ?? {});
  const cancelled = session.status === "cancelled";
  const at = appNow.value;
  const ended = instant(session.end) <= at;
  const materials = [...(session.links ?? []), ...(session.attachments ?? [])];
  return (
    <article class="session-detail" style={session.trackId ? { "--track": model.tracks.get(session.trackId)?.colour } : undefined}>
      {subtitle && (
        <p class="lead" lang={langOf(session, "subtitle")}>
          {subtitle}
        </p>
      )}
      <StaleNote entity={session} fields={STALE_FIELDS} />
      {cancelled && (
        <p class="cancelled-banner">
          <WarningIcon />
          <Badge kind="cancelled">{messages.cancelled}</Badge>
        </p>
      )}
      <Recording session={session} />
      <dl class="facts">
        <div>
          <dt>{messages.when}</dt>
          <dd>
            <When model={model} session={session} />
          </dd>
        </div>
        {room && (
          <div>
            <dt>{messages.where}</dt>
            <dd>
              <PinIcon />
              <span class="fact-main">{localized(room, "name", language)}</span>
              {room.floor && <span class="muted">{room.floor}</span>}
              {!cancelled && <RoomStatusBadge roomId={session.roomId} />}
              <a class="block" href={`/map?room=${encodeURIComponent(room.id)}`}>
                {messages["venue.showOnMap"]}
              </a>
            </dd>
          </div>
        )}
        {session.trackId && model.tracks.has(session.trackId) && (
          <div>
            <dt>{messages.theme}</dt>
            <dd>
              <TrackChip model={model} session={session} />
            </dd>
          </div>
        )}
        {format && (
          <div>
            <dt>{messages.format}</dt>
            <dd>{localized(format, "name", language)}</dd>
          </div>
        )}
        {(session.languages ?? []).length > 0 && (
          <div>
            <dt>{messages.languages}</dt>
            <dd>{(session.languages ?? []).map((code) => languageLabel(code, language)).join(", ")}</dd>
          </div>
        )}
        {session.recording !== "off-the-record" && (
          <div>
            <dt>{messages.recording}</dt>
            <dd>{session.recording === "public" ? messages.recordingPublic : messages.recordingNone}</dd>
          </div>
        )}
      </dl>

      <p class="agenda-action">
        <button
          type="button"
          class={saved ? "button button-saved" : "button button-primary"}
          aria-pressed={saved}
          disabled={!docsReady.value}
          onClick={() => void toggleBookmark(session.id)}
        >
          <BookmarkIcon filled={saved} />
          {saved ? messages.removeFromAgenda : messages.addToAgenda}
        </button>
        <ShareButton title={localized(session, "title", language)} />
        <a class="button button-quiet" href={`/api/sessions/${encodeURIComponent(session.id)}.ics`} download>
          <CalendarIcon />
          {messages.addToCalendar}
        </a>
      </p>

      <SessionNotesSlot sessionId={session.id} />

      <SessionFeedbackSlot session={session} />

      {speakers.length > 0 && (
        <section aria-labelledby="session-speakers">
          <h2 id="session-speakers">{messages.speakers}</h2>
          <ul class="speaker-list">
            {speakers.map((speaker) => (
              <li key={speaker.id} class="speaker-item">
                <Avatar speaker={speaker} />
                <span>
                  <a href={`/speakers/${encodeURIComponent(speaker.id)}`}>{speaker.name}</a>
                  {!speaker.anonymous && (speaker.organisation || speaker.country) && (
                    <span class="muted block">{[speaker.organisation, speaker.country].filter(Boolean).join(", ")}</span>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {(abstract || description) && (
        <section aria-labelledby="session-about">
          <h2 id="session-about">{messages.aboutSession}</h2>
          <div class="prose">
            {paragraphs(abstract).map((text, i) => (
              <p key={`a${i}`} lang={langOf(session, "abstract")}>
                {text}
              </p>
            ))}
            {paragraphs(description).map((text, i) => (
              <p key={`d${i}`} lang={langOf(session, "description")}>
                {text}
              </p>
            ))}
          </div>
        </section>
      )}

      {materials.length > 0 && (
        <section aria-labelledby="session-materials">
          <h2 id="session-materials">{ended ? messages.afterTheSession : messages.materials}</h2>
          <ul class="link-list">
            {materials.map((link) => (
              <li key={link.url}>
                <a href={link.url} target="_blank" rel="noopener noreferrer">
                  {link.title}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}

      {!cancelled && !ended && (streamOpen(session, at) || interpretation.length > 0) && (
        <section aria-labelledby="session-online">
          <h2 id="session-online">{messages.joinOnline}</h2>
          <ul class="link-list">
            {streamOpen(session, at) && (
              <li>
                <WatchLive session={session} at={at} small={false} />
              </li>
            )}
            {interpretation.map(([code, url]) => (
              <li key={code}>
                <a href={url} target="_blank" rel="noopener noreferrer">
                  <HeadphonesIcon />
                  {messages.interpretation(languageLabel(code, language))}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}

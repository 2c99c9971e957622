/** Speakers: the list (with a quick filter) and each speaker's profile. */

import { useState } from "preact/hooks";

import type { Speaker } from "../../shared/types";
import { localized, paragraphs } from "../content";
import type { Model } from "../model";
import { lang, locale, t } from "../prefs";
import { normalise } from "../normalise";
import { model } from "../store";
import { dayKey, formatDayShort } from "../time";
import { Avatar, SessionCard, StaleNote, langOf } from "../ui/common";
import { SearchIcon } from "../ui/icons";
import { Page } from "../ui/page";

/** What may be said about a speaker besides the name: nothing for anonymous speakers. */
function affiliation(speaker: Speaker, language: string): string {
  if (speaker.anonymous) return "";
  return [localized(speaker, "role", language), speaker.organisation, speaker.country].filter(Boolean).join(" · ");
}

export function SpeakersView() {
  const current = model.value;
  return <Page title={t.value.speakersTitle}>{current && <SpeakerList model={current} />}</Page>;
}

function SpeakerList({ model }: { model: Model }) {
  const messages = t.value;
  const [filter, setFilter] = useState("");
  const wanted = normalise(filter);
  const speakers = model.programme.speakers.filter(
    (speaker) => !wanted || normalise(`${speaker.name} ${speaker.anonymous ? "" : `${speaker.organisation ?? ""} ${speaker.country ?? ""}`}`).includes(wanted),
  );
  return (
    <>
      <label class="field field-search">
        <span class="field-label">{messages.findSpeaker}</span>
        <span class="search-input">
          <SearchIcon />
          <input type="search" value={filter} autocomplete="off" onInput={(event) => setFilter(event.currentTarget.value)} />
        </span>
      </label>
      {speakers.length === 0 && <p class="empty">{messages.noSpeakerMatches}</p>}
      <ul class="speaker-grid">
        {speakers.map((speaker) => (
          <li key={speaker.id} class="card speaker-card">
            <Avatar speaker={speaker} />
            <span class="speaker-text">
              <a class="speaker-name" href={`/speakers/${encodeURIComponent(speaker.id)}`}>
                {speaker.name}
              </a>
              {speaker.pronouns && <span class="muted"> ({speaker.pronouns})</span>}
              {affiliation(speaker, lang.value) && <span class="muted block">{affiliation(speaker, lang.value)}</span>}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

export function SpeakerView({ id }: { id: string }) {
  const messages = t.value;
  const current = model.value;
  const speaker = current?.speakers.get(id);
  if (current && !speaker) {
    return (
      <Page title={messages.speakerGone}>
        <p>
          <a href="/speakers">{messages.speakersTitle}</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={speaker ? speaker.name : messages.loading}>
      {current && speaker && <SpeakerProfile model={current} speaker={speaker} />}
    </Page>
  );
}

function SpeakerProfile({ model, speaker }: { model: Model; speaker: Speaker }) {
  const messages = t.value;
  const language = lang.value;
  const sessions = model.bySpeaker.get(speaker.id) ?? [];
  const bio = localized(speaker, "bio", language);
  const about = affiliation(speaker, language);
  return (
    <div class="profile">
      <div class="profile-head">
        <Avatar speaker={speaker} large />
        <dl class="facts facts-compact">
          {speaker.pronouns && (
            <div>
              <dt>{messages.pronouns}</dt>
              <dd>{speaker.pronouns}</dd>
            </div>
          )}
          {about && (
            <div>
              <dt class="visually-hidden">{messages.speakersTitle}</dt>
              <dd>{about}</dd>
            </div>
          )}
        </dl>
      </div>
      {speaker.anonymous && (
        <div class="callout" role="note">
          <p class="callout-title">{messages.pseudonym}</p>
          <p>{messages.pseudonymDetail}</p>
        </div>
      )}
      <StaleNote entity={speaker} fields={["role", "bio"]} />
      <div class="prose" lang={langOf(speaker, "bio")}>
        {paragraphs(bio).map((text, i) => (
          <p key={i}>{text}</p>
        ))}
      </div>
      {!speaker.anonymous && (speaker.links ?? []).length > 0 && (
        <section aria-labelledby="speaker-links">
          <h2 id="speaker-links">{messages.links}</h2>
          <ul class="link-list">
            {(speaker.links ?? []).map((link) => (
              <li key={link.url}>
                <a href={link.url} target="_blank" rel="noopener noreferrer">
                  {link.title}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      {sessions.length > 0 && (
        <section aria-labelledby="speaker-sessions">
          <h2 id="speaker-sessions">{messages.sessions}</h2>
          <ul class="cards">
            {sessions.map((session) => (
              <SessionCard key={session.id} model={model} session={session} withDay={dayLabel(model, session.start)} />
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function dayLabel(model: Model, start: string): string {
  return formatDayShort(dayKey(start, model.zone), locale.value);
}

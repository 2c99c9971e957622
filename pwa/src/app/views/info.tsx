/** Info: settings, the conference, venue and rooms, installing the app and what works offline. */

import { LANGUAGES, isLang } from "../i18n";
import { localized, paragraphs } from "../content";
import { lang, locale, participation, setLang, setParticipation, t } from "../prefs";
import { model, now, persisted, syncNow, syncedAt, syncing } from "../store";
import { installPrompt, installed } from "../sw-bridge";
import { formatDayRange, formatStamp, updatedText, zoneName } from "../time";
import { DevicesSection } from "../notes/lazy";
import { Page } from "../ui/page";
import { InfoPagesSlot } from "../venue-lazy";
import { NotifyPanel } from "./notify-panel";

function Settings() {
  const messages = t.value;
  return (
    <section aria-labelledby="settings">
      <h2 id="settings" tabIndex={-1}>
        {messages.settings}
      </h2>
      <label class="field">
        <span class="field-label">{messages.language}</span>
        <select
          value={lang.value}
          onChange={(event) => {
            const value = event.currentTarget.value;
            if (isLang(value)) setLang(value);
          }}
        >
          {LANGUAGES.map((entry) => (
            <option key={entry.code} value={entry.code} lang={entry.code} dir={entry.dir}>
              {entry.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span class="field-label">{messages["announcements.participation"]}</span>
        <select
          value={participation.value ?? ""}
          aria-describedby="participation-hint"
          onChange={(event) => {
            const value = event.currentTarget.value;
            setParticipation(value === "onsite" || value === "online" ? value : null);
          }}
        >
          <option value="">{messages["announcements.participationAny"]}</option>
          <option value="onsite">{messages["announcements.participationOnsite"]}</option>
          <option value="online">{messages["announcements.participationOnline"]}</option>
        </select>
        <span id="participation-hint" class="field-hint muted">
          {messages["announcements.participationHint"]}
        </span>
      </label>
    </section>
  );
}

function AboutEvent() {
  const messages = t.value;
  const current = model.value;
  const event = current?.programme.event;
  if (!current || !event) return null;
  const first = current.days[0];
  const last = current.days[current.days.length - 1];
  return (
    <>
      <section aria-labelledby="about-event">
        <h2 id="about-event">{messages.aboutEvent}</h2>
        <p class="fact-main">{localized(event, "name", lang.value)}</p>
        {first && last && (
          <p>
            {formatDayRange(first, last, locale.value)} · {zoneName(event.timeZone, locale.value, `${first}T12:00:00Z`, "long")} (
            {event.timeZone})
          </p>
        )}
        <div class="prose">
          {paragraphs(localized(event, "description", lang.value)).map((text, i) => (
            <p key={i}>{text}</p>
          ))}
        </div>
        {event.url && (
          <p>
            <a href={event.url} target="_blank" rel="noopener noreferrer">
              {messages.website}
            </a>
          </p>
        )}
      </section>
      {(event.venueName || event.venueAddress) && (
        <section aria-labelledby="venue">
          <h2 id="venue">{messages.venue}</h2>
          <address>
            {event.venueName && <span class="fact-main block">{event.venueName}</span>}
            {event.venueAddress}
          </address>
        </section>
      )}
      {current.programme.rooms.length > 0 && (
        <section aria-labelledby="rooms">
          <h2 id="rooms">{messages.rooms}</h2>
          <ul class="room-list">
            {current.programme.rooms.map((room) => (
              <li key={room.id} class="card">
                <h3 class="card-title">{localized(room, "name", lang.value)}</h3>
                <p class="muted">
                  {[room.floor, room.capacity ? messages.seats(room.capacity) : ""].filter(Boolean).join(" · ")}
                </p>
                {localized(room, "accessibility", lang.value) && <p>{localized(room, "accessibility", lang.value)}</p>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function Install() {
  const messages = t.value;
  const prompt = installPrompt.value;
  return (
    <section aria-labelledby="install">
      <h2 id="install">{messages.install}</h2>
      {installed.value ? (
        <p>{messages.installed}</p>
      ) : (
        <>
          {prompt && (
            <p>
              <button type="button" class="button button-primary" onClick={() => void prompt.prompt()}>
                {messages.installButton}
              </button>
            </p>
          )}
          <ul class="plain-list">
            <li>{messages.installAndroid}</li>
            <li>{messages.installIos}</li>
            <li>{messages.installDesktop}</li>
          </ul>
        </>
      )}
    </section>
  );
}

function Offline() {
  const messages = t.value;
  const at = syncedAt.value;
  return (
    <section aria-labelledby="offline">
      <h2 id="offline">{messages.worksOffline}</h2>
      <ul class="check-list">
        {messages.offlineList.map((text) => (
          <li key={text}>{text}</li>
        ))}
      </ul>
      <p>{messages.needsNetwork}</p>
      {persisted.value !== null && <p>{persisted.value ? messages.storagePersistent : messages.storageBestEffort}</p>}
      <p>
        {messages.lastUpdate(
          at === null
            ? messages.notYetDownloaded
            : `${formatStamp(at, locale.value)} (${updatedText(messages, at, now.value)})`,
        )}
      </p>
      <p>
        <button type="button" class="button" disabled={syncing.value} onClick={() => void syncNow()}>
          {messages.checkNow}
        </button>
      </p>
    </section>
  );
}

export function InfoView() {
  return (
    <Page title={t.value.infoTitle} needsProgramme={false}>
      <InfoPagesSlot />
      <Settings />
      <AboutEvent />
      <Install />
      <NotifyPanel />
      <DevicesSection />
      <Offline />
    </Page>
  );
}

export function NotFoundView() {
  const messages = t.value;
  return (
    <Page title={messages.notFoundTitle} needsProgramme={false}>
      <p>{messages.notFoundText}</p>
      <p>
        <a href="/">{messages.goToStart}</a>
      </p>
    </Page>
  );
}

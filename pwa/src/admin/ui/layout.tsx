/** The console's frame: skip link, header with who is signed in, the navigation their role allows, and the live region. */

import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

import { auth, signOut } from "../auth";
import { programme } from "../programme";
import { areasFor, ROLE_TEXT } from "../roles";
import { BASE, route, type Kind } from "../router";
import { CONSOLE_LANGUAGES, consoleLang, isConsoleLang, setConsoleLang } from "../i18n";
import { s } from "../strings";
import { refreshTranslationCounts, translationCounts } from "../translations";
import { DialogHost } from "./dialog";
import { StatusRegion } from "./status";

function Brand() {
  const event = programme.value?.event;
  return (
    <a class="brand" href={BASE}>
      <img src="/icons/icon.svg" alt="" width="32" height="32" />
      <span class="brand-name">{s.appName}</span>
      {event && <span class="brand-event">{event.acronym || event.name}</span>}
    </a>
  );
}

/** The translations link, naming how many translations are out of date (read again whenever the programme changes). */
function TranslationsLink({ current, section }: { current: "page" | undefined; section: boolean }) {
  const version = programme.value;
  useEffect(() => {
    if (version) void refreshTranslationCounts();
  }, [version]);
  const stale = (translationCounts.value ?? []).reduce((sum, item) => sum + item.stale, 0);
  return (
    <a href={`${BASE}/translations`} aria-current={current} class={section ? "is-section" : undefined} aria-label={stale ? s.navTranslationsStale(stale) : undefined}>
      {s.navTranslations}
      {/* The number is drawn by CSS from data-count, so the link's name (its label, then the count in words) holds
          all the text it shows (WCAG 2.5.3, axe's label-content-name-mismatch). */}
      {stale > 0 && <span class="badge badge-warning nav-count" aria-hidden="true" data-count={stale} />}
    </a>
  );
}

function Nav({ role }: { role: string }) {
  const current = route.value;
  const areas = areasFor(role);
  const kinds: [Kind, string][] = [
    ["sessions", s.navSessions],
    ["speakers", s.navSpeakers],
    ["rooms", s.navRooms],
    ["tracks", s.navTracks],
  ];
  const here = (name: string) => (current.name === name ? "page" : undefined);
  const section = (kind: Kind) => (current.name === "list" || current.name === "edit") && current.kind === kind;
  return (
    <nav class="console-nav" aria-label={s.consoleNavigation}>
      <ul>
        {areas.includes("programme") && (
          <li class="nav-group">
            <span class="nav-group-label" id="nav-programme">
              {s.navProgramme}
            </span>
            <ul aria-labelledby="nav-programme">
              {kinds.map(([kind, label]) => (
                <li key={kind}>
                  <a
                    href={`${BASE}/${kind}`}
                    aria-current={current.name === "list" && current.kind === kind ? "page" : undefined}
                    class={section(kind) ? "is-section" : undefined}
                  >
                    {label}
                  </a>
                </li>
              ))}
              <li>
                <a href={`${BASE}/floor-plans`} aria-current={here("floorPlans")}>
                  {s.navFloorPlans}
                </a>
              </li>
              <li>
                <a href={`${BASE}/info-pages`} aria-current={here("infoPages")}>
                  {s.navInfoPages}
                </a>
              </li>
              <li>
                <TranslationsLink current={current.name === "translations" ? "page" : undefined} section={current.name === "translate"} />
              </li>
            </ul>
          </li>
        )}
        {areas.includes("import") && (
          <li>
            <a href={`${BASE}/import`} aria-current={here("import")}>
              {s.navImport}
            </a>
          </li>
        )}
        {areas.includes("source") && (
          <li>
            <a href={`${BASE}/source`} aria-current={here("source")}>
              {s.navSource}
            </a>
          </li>
        )}
        {areas.includes("announcements") && (
          <li>
            <a href={`${BASE}/announcements`} aria-current={here("announcements")}>
              {s.navAnnouncements}
            </a>
          </li>
        )}
        {areas.includes("room-status") && (
          <li>
            <a href={`${BASE}/room-status`} aria-current={here("room-status")}>
              {s.navRoomStatus}
            </a>
          </li>
        )}
        {areas.includes("feedback") && (
          <li>
            <a href={`${BASE}/feedback`} aria-current={here("feedback")}>
              {s.navFeedback}
            </a>
          </li>
        )}
        {areas.includes("history") && (
          <li>
            <a href={`${BASE}/history`} aria-current={here("history")}>
              {s.navHistory}
            </a>
          </li>
        )}
        {areas.includes("organisers") && (
          <li>
            <a href={`${BASE}/organisers`} aria-current={here("organisers")}>
              {s.navOrganisers}
            </a>
          </li>
        )}
      </ul>
    </nav>
  );
}

/** The console's language, each named in itself; reachable on every screen, signed in or not. */
function LanguageSwitch() {
  return (
    <label class="console-language">
      <span class="visually-hidden">{s.consoleLanguage}</span>
      <select
        value={consoleLang.value}
        onChange={(event) => {
          const value = event.currentTarget.value;
          if (isConsoleLang(value)) void setConsoleLang(value);
        }}
      >
        {CONSOLE_LANGUAGES.map((entry) => (
          <option key={entry.code} value={entry.code} lang={entry.code}>
            {entry.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Header({ showUser }: { showUser: boolean }) {
  const state = auth.value;
  return (
    <header class="console-header">
      <Brand />
      <LanguageSwitch />
      {showUser && state.state === "signedIn" && (
        <div class="whoami">
          <span class="whoami-name">{s.signedInAs(state.organiser.name)}</span>
          <span class="whoami-role">{s.roleText[state.organiser.role] ?? ROLE_TEXT[state.organiser.role]}</span>
          <button type="button" class="button button-small button-on-brand" onClick={() => void signOut()}>
            {s.signOut}
          </button>
        </div>
      )}
    </header>
  );
}

/** The frame; `nav` is false on the sign-in and set-password screens. */
export function Layout({ children, nav = true }: { children: ComponentChildren; nav?: boolean }) {
  const state = auth.value;
  return (
    <div class={nav ? "frame" : "frame frame-plain"}>
      <a class="skip-link" href="#main">
        {s.skipToContent}
      </a>
      <Header showUser={state.state === "signedIn"} />
      {nav && state.state === "signedIn" && <Nav role={state.organiser.role} />}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <StatusRegion />
      <DialogHost />
    </div>
  );
}

/** The frame around every view: skip link, header with status and time zone, main navigation, notices. */

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

import { localized } from "../content";
import { deviceZone, lang, languageName, locale, setUseLocalTime, t, useLocalTime } from "../prefs";
import { route } from "../router";
import { applyUpdate, dismissNotice, notice } from "../sw-bridge";
import { unreadCount } from "../announce/state";
import { changeCount } from "../changes";
import { NotesIcon } from "../notes/lazy";
import { behind, connection, heardAt, model, now } from "../store";
import { updatedText, zoneName } from "../time";
import {
  BookmarkIcon,
  CalendarIcon,
  ChangesIcon,
  CheckIcon,
  ClockIcon,
  CloseIcon,
  GlobeIcon,
  InfoIcon,
  Logo,
  MegaphoneIcon,
  PeopleIcon,
} from "./icons";
import { LiveBanners } from "./live-banner";

function StatusIndicator() {
  const messages = t.value;
  const state = connection.value;
  const label = state === "syncing" ? messages.syncing : state === "online" ? messages.online : messages.offline;
  return (
    <p class={`status status-${state}`} role="status" data-behind={behind.value ? "" : undefined}>
      <span class="status-dot" aria-hidden="true" />
      <span class="status-state">{label}</span>
      <span class="status-updated" aria-live="off">
        {updatedText(messages, heardAt.value, now.value, behind.value)}
      </span>
    </p>
  );
}

function zoneNow() {
  const eventZone = model.value?.zone;
  const zone = useLocalTime.value || !eventZone ? deviceZone : eventZone;
  return { short: zoneName(zone, locale.value, now.value, "short"), long: zoneName(zone, locale.value, now.value, "long") };
}

/** The zone every time is shown in, always named: a chip in the header that opens the switch. */
function ZoneChip({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const { short } = zoneNow();
  return (
    <button type="button" class="zone-chip" aria-expanded={open} aria-controls="zone-panel" aria-label={t.value.zoneChip(short)} onClick={onToggle}>
      <ClockIcon />
      <span>{short}</span>
    </button>
  );
}

function TimeZoneBar() {
  const messages = t.value;
  const { short, long } = zoneNow();
  const whose = useLocalTime.value ? messages.yourTime : messages.eventTime;
  return (
    <div class="timezone-bar" id="zone-panel">
      <p class="timezone-current">
        <ClockIcon />
        <span>
          {messages.timesIn(short)}{" "}
          <span class="muted">
            ({long !== short && <span class="zone-long">{long}, </span>}
            {whose})
          </span>
        </span>
      </p>
      <label class="toggle">
        <input type="checkbox" checked={useLocalTime.value} onChange={(event) => setUseLocalTime(event.currentTarget.checked)} />
        <span>{messages.showLocalTime}</span>
      </label>
    </div>
  );
}

/** A label with line-break opportunities where "|" stands (a <wbr> adds nothing to its accessible name). */
function withBreaks(text: string) {
  return text.split("|").flatMap((part, i) => (i === 0 ? [part] : [<wbr key={i} />, part]));
}

const SECTIONS: Record<string, string> = { session: "programme", speaker: "speakers", announcement: "announcements", note: "notes", device: "notes" };

function MainNav() {
  const messages = t.value;
  const current = route.value.name;
  const section = SECTIONS[current] ?? current;
  const unread = unreadCount.value;
  const changed = changeCount.value;
  const items = [
    { name: "now", href: "/", label: messages.navNow, icon: <ClockIcon /> },
    { name: "programme", href: "/programme", label: messages.navProgramme, icon: <CalendarIcon /> },
    { name: "speakers", href: "/speakers", label: messages.navSpeakers, icon: <PeopleIcon /> },
    { name: "agenda", href: "/agenda", label: messages.navAgenda, icon: <BookmarkIcon /> },
    {
      name: "announcements",
      href: "/announcements",
      label: messages.navAnnouncements,
      breakAt: messages.navAnnouncementsBreak,
      icon: <MegaphoneIcon />,
      count: unread,
    },
    // On phones the tab shows only while there are changes to see (or on its own page).
    {
      name: "changes",
      href: "/changes",
      label: messages["changes.nav"],
      icon: <ChangesIcon />,
      count: changed,
      countLabel: messages["changes.count"],
      ...(changed || current === "changes" ? {} : { wideOnly: true }),
    },
    { name: "info", href: "/info", label: messages.navInfo, icon: <InfoIcon /> },
    // Phones have room for six tabs: there, My notes is reached from My agenda and each session.
    { name: "notes", href: "/notes", label: messages["notes.nav"], icon: <NotesIcon />, wideOnly: true },
  ];
  return (
    <nav class="main-nav" aria-label={messages.mainNavigation}>
      <ul>
        {items.map((item) => (
          <li key={item.name} class={"wideOnly" in item ? "nav-wide-only" : undefined}>
            <a
              href={item.href}
              aria-current={current === item.name ? "page" : undefined}
              aria-label={item.count ? `${item.label}, ${("countLabel" in item ? item.countLabel : messages["announcements.unreadCount"])(item.count)}` : undefined}
              class={section === item.name ? "is-section" : undefined}
            >
              <span class="nav-icon">
                {item.icon}
                {item.count ? (
                  // The number is drawn by CSS from data-count: the link's name (label, then the count in words) then
                  // begins with all the text it shows, in every language (WCAG 2.5.3, axe's label-content-name-mismatch).
                  <span class="nav-count" aria-hidden="true" data-count={item.count} />
                ) : null}
              </span>
              <span class="nav-label">{item.breakAt ? withBreaks(item.breakAt) : item.label}</span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** How long "Ready to work offline" stays: long enough to read, short enough not to be in the way. */
export const READY_NOTICE_MS = 4_000;

function Notices() {
  const messages = t.value;
  const current = notice.value;
  useEffect(() => {
    if (current !== "ready") return;
    const timer = setTimeout(dismissNotice, READY_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [current]);
  // The brief "ready" note sits over the header on phones, clear of the content and the tab bar.
  return (
    <div class={current === "ready" ? "notices notices-brief" : "notices"} role="status">
      {current === "ready" && (
        <div class="toast">
          <CheckIcon />
          <span class="toast-text">{messages.readyOffline}</span>
          <button type="button" class="icon-button" aria-label={messages.dismiss} onClick={dismissNotice}>
            <CloseIcon />
          </button>
        </div>
      )}
      {current === "update" && (
        <div class="toast">
          <span class="toast-text">{messages.updateAvailable}</span>
          <button type="button" class="button button-primary" onClick={applyUpdate}>
            {messages.reload}
          </button>
          <button type="button" class="icon-button" aria-label={messages.dismiss} onClick={dismissNotice}>
            <CloseIcon />
          </button>
        </div>
      )}
    </div>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const messages = t.value;
  const event = model.value?.programme.event;
  const [zoneOpen, setZoneOpen] = useState(false);
  const eventLabel = event ? event.acronym || localized(event, "name", lang.value) : "";
  return (
    <div class="frame">
      <a class="skip-link" href="#main">
        {messages.skipToContent}
      </a>
      <header class="site-header">
        <div class="header-row">
          <a href="/" class="brand">
            <Logo />
            <span class={eventLabel ? "brand-name brand-name-quiet" : "brand-name"}>Kumpul</span>
            {eventLabel && <span class="brand-event">{eventLabel}</span>}
          </a>
          <StatusIndicator />
          <ZoneChip open={zoneOpen} onToggle={() => setZoneOpen(!zoneOpen)} />
          <a href="/info#settings" class="language-link">
            <GlobeIcon />
            <span class="language-name" lang={lang.value}>
              {languageName.value}
            </span>
          </a>
        </div>
        {zoneOpen && <TimeZoneBar />}
      </header>
      <MainNav />
      <LiveBanners />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <Notices />
    </div>
  );
}

/** Announcements from the organisers: urgent ones pinned, then newest; unread ones marked; notifications. */

import type { Announcement } from "../../shared/types";
import { excerpt, isUrgent } from "../announce/model";
import { markRead } from "../announce/read";
import { announcements, isUnread, unreadCount } from "../announce/state";
import { localized } from "../content";
import { lang, locale, t } from "../prefs";
import { displayZone } from "../store";
import { dayKey, formatDayShort, formatTime, zoneName } from "../time";
import { Badge, langOf } from "../ui/common";
import { MegaphoneIcon } from "../ui/icons";
import { Page } from "../ui/page";
import { NotifyPanel } from "./notify-panel";

/** When an announcement was published, with the zone named: "Tue 23 Jul, 10:45 GMT+8". */
export function publishedText(at: string, zone: string, localeTag: string): string {
  return `${formatDayShort(dayKey(at, zone), localeTag)}, ${formatTime(at, zone, localeTag)} ${zoneName(zone, localeTag, at)}`;
}

function AnnouncementCard({ item }: { item: Announcement }) {
  const messages = t.value;
  const at = item.publishedAt ?? item.createdAt;
  const unread = isUnread(item.id);
  const urgent = isUrgent(item);
  const body = excerpt(localized(item, "body", lang.value));
  return (
    <li class={`card announcement${urgent ? " is-urgent" : ""}${unread ? " is-unread" : ""}`}>
      <h2 class="card-title">
        <a href={`/announcements/${encodeURIComponent(item.id)}`} lang={langOf(item, "title")}>
          {localized(item, "title", lang.value)}
        </a>
      </h2>
      <p class="card-badges">
        {urgent && <Badge kind="urgent">{messages.urgent}</Badge>}
        {unread && <Badge kind="unread">{messages.unread}</Badge>}
        {at && (
          <time class="muted" dateTime={at}>
            {publishedText(at, displayZone.value, locale.value)}
          </time>
        )}
      </p>
      {body && (
        <p class="announcement-excerpt" lang={langOf(item, "body")}>
          {body}
        </p>
      )}
    </li>
  );
}

export function AnnouncementsView() {
  const messages = t.value;
  const items = announcements.value;
  return (
    <Page title={messages.announcementsTitle}>
      {items.length === 0 ? (
        <div class="empty-state">
          <MegaphoneIcon />
          <p class="empty-title">{messages.noAnnouncements}</p>
          <p>{messages.noAnnouncementsHint}</p>
        </div>
      ) : (
        <>
          {unreadCount.value > 0 && (
            <p class="announcement-tools">
              <button type="button" class="button button-small" onClick={() => markRead(...items.map((item) => item.id))}>
                {messages["announcements.markAllRead"]}
              </button>
            </p>
          )}
          <ul class="cards announcement-list">
            {items.map((item) => (
              <AnnouncementCard key={item.id} item={item} />
            ))}
          </ul>
        </>
      )}
      <NotifyPanel />
    </Page>
  );
}

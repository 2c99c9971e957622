/** Announcements from the organisers as the programme feed carries them: urgent first, then newest. */

import { useEffect, useRef } from "preact/hooks";

import { localized, paragraphs } from "../content";
import { isUrgent, orderAnnouncements } from "../model";
import { lang, locale, t } from "../prefs";
import { displayZone, markRead, programme, readAnnouncements } from "../store";
import { dayKey, formatDayShort, formatTime } from "../time";
import { Badge } from "../ui/common";
import { MegaphoneIcon } from "../ui/icons";
import { Page } from "../ui/page";

export function AnnouncementsView() {
  const messages = t.value;
  const items = orderAnnouncements(programme.value?.announcements ?? []);
  // What was unread when it first appeared on this page stays marked as such while the page is open.
  const unread = useRef(new Set<string>()).current;
  for (const item of items) if (!readAnnouncements.value.has(item.id)) unread.add(item.id);
  const ids = items.map((item) => item.id).join(" ");
  useEffect(() => {
    if (ids) void markRead(ids.split(" "));
  }, [ids]);
  const zone = displayZone.value;
  return (
    <Page title={messages.announcementsTitle}>
      {items.length === 0 ? (
        <div class="empty-state">
          <MegaphoneIcon />
          <p class="empty-title">{messages.noAnnouncements}</p>
          <p>{messages.noAnnouncementsHint}</p>
        </div>
      ) : (
        <ul class="cards">
          {items.map((item) => {
            const at = item.publishedAt ?? item.createdAt;
            const isUnread = unread.has(item.id);
            return (
              <li key={item.id} class={`card announcement${isUrgent(item) ? " is-urgent" : ""}${isUnread ? " is-unread" : ""}`}>
                <h2 class="card-title">{localized(item, "title", lang.value)}</h2>
                <p class="card-badges">
                  {isUrgent(item) && <Badge kind="urgent">{messages.urgent}</Badge>}
                  {isUnread && <Badge kind="unread">{messages.unread}</Badge>}
                  {at && (
                    <time class="muted" dateTime={at}>
                      {formatDayShort(dayKey(at, zone), locale.value)}, {formatTime(at, zone, locale.value)}
                    </time>
                  )}
                </p>
                <div class="prose">
                  {paragraphs(localized(item, "body", lang.value)).map((text, i) => (
                    <p key={i}>{text}</p>
                  ))}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </Page>
  );
}

/**
 * Banners for announcements that arrive while the app is open: urgent ones in an alert region,
 * others in a polite status region (both always present, so screen readers announce additions);
 * reminders before bookmarked sessions too, where push does not bring them.
 */

import type { Announcement } from "../../shared/types";
import "../announce/announce.css";
import { isUrgent } from "../announce/model";
import { localized } from "../content";
import { banners, dismissBanner } from "../live";
import { deviceZone, lang, locale, t, useLocalTime } from "../prefs";
import { reminderKey } from "../reminder-prefs";
import { dismissReminder, pageReminders } from "../reminders";
import { model } from "../store";
import { formatTime } from "../time";
import type { Session } from "../../shared/types";
import { ClockIcon, CloseIcon, MegaphoneIcon } from "./icons";

function Banner({ item }: { item: Announcement }) {
  const messages = t.value;
  const urgent = isUrgent(item);
  const title = localized(item, "title", lang.value);
  return (
    <div class={`live-banner${urgent ? " is-urgent" : ""}`}>
      <MegaphoneIcon />
      <p class="live-banner-text">
        <span class="live-banner-kind">{urgent ? messages["live.urgent"] : messages["live.new"]}</span>
        <span class="live-banner-title">{title}</span>
      </p>
      <a class="button button-small live-banner-read" href={`/announcements/${encodeURIComponent(item.id)}`} onClick={() => dismissBanner(item.id)}>
        {messages["live.read"]}
        <span class="visually-hidden">: {title}</span>
      </a>
      <button type="button" class="icon-button" aria-label={messages["live.dismiss"](title)} onClick={() => dismissBanner(item.id)}>
        <CloseIcon />
      </button>
    </div>
  );
}

/** A reminder before a bookmarked session, shown in the page where push does not bring it. */
function ReminderBanner({ session }: { session: Session }) {
  const messages = t.value;
  const programme = model.value;
  const title = localized(session, "title", lang.value);
  const room = programme?.rooms.get(session.roomId);
  const zone = useLocalTime.value || !programme ? deviceZone : programme.zone;
  const when = messages["reminders.when"](formatTime(session.start, zone, locale.value), room ? localized(room, "name", lang.value) : "");
  const key = reminderKey(session);
  return (
    <div class="live-banner is-reminder">
      <ClockIcon />
      <p class="live-banner-text">
        <span class="live-banner-kind">{messages["reminders.soon"]}</span>
        <span class="live-banner-title">{title}</span>
        <span class="live-banner-when">{when}</span>
      </p>
      <a class="button button-small live-banner-read" href={`/sessions/${encodeURIComponent(session.id)}`} onClick={() => dismissReminder(key)}>
        {messages["reminders.view"]}
        <span class="visually-hidden">: {title}</span>
      </a>
      <button type="button" class="icon-button" aria-label={messages["live.dismiss"](title)} onClick={() => dismissReminder(key)}>
        <CloseIcon />
      </button>
    </div>
  );
}

export function LiveBanners() {
  const items = banners.value;
  const reminders = pageReminders.value;
  return (
    <div class="live-banners">
      <div role="alert">
        {items.filter(isUrgent).map((item) => (
          <Banner key={item.id} item={item} />
        ))}
      </div>
      <div role="status">
        {items
          .filter((item) => !isUrgent(item))
          .map((item) => (
            <Banner key={item.id} item={item} />
          ))}
        {reminders.map((session) => (
          <ReminderBanner key={reminderKey(session)} session={session} />
        ))}
      </div>
    </div>
  );
}

/**
 * Banners for announcements that arrive while the app is open: urgent ones in an alert region,
 * others in a polite status region (both always present, so screen readers announce additions).
 */

import type { Announcement } from "../../shared/types";
import "../announce/announce.css";
import { isUrgent } from "../announce/model";
import { localized } from "../content";
import { banners, dismissBanner } from "../live";
import { lang, t } from "../prefs";
import { CloseIcon, MegaphoneIcon } from "./icons";

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

export function LiveBanners() {
  const items = banners.value;
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
      </div>
    </div>
  );
}

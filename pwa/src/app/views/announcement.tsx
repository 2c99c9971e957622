/**
 * One announcement: title, when it was published (zone named), the plain-text body with its URLs
 * as links, and the related session. Opening it marks it read.
 *
 * The body is never parsed as HTML: it becomes text nodes and <a> elements for http(s) URLs only.
 */

import { useEffect } from "preact/hooks";

import { instant } from "../../shared/feed";
import { isExpired, isUrgent, linkify } from "../announce/model";
import { markRead } from "../announce/read";
import { findAnnouncement } from "../announce/state";
import { localized, paragraphs } from "../content";
import { lang, locale, t } from "../prefs";
import { displayZone, model, now } from "../store";
import { Badge, SessionCard, langOf } from "../ui/common";
import { Page } from "../ui/page";
import { publishedText } from "./announcements";

/** A paragraph of plain text with its URLs as links; other origins open in a new tab. */
export function LinkedText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((segment, i) => {
        if (!segment.href) return segment.text;
        const external = new URL(segment.href).origin !== window.location.origin;
        return (
          <a key={i} href={segment.href} rel="noopener noreferrer" target={external ? "_blank" : undefined}>
            {segment.text}
          </a>
        );
      })}
    </>
  );
}

export function AnnouncementView({ id }: { id: string }) {
  const messages = t.value;
  const found = findAnnouncement(id);
  const item = found && !isExpired(found, now.value) ? found : null;
  useEffect(() => {
    if (item) markRead(item.id);
  }, [item?.id]);

  // The programme is still being read from the device: the page shows it is loading.
  if (!model.value) return <Page title={messages.announcementsTitle} />;
  if (!item) {
    return (
      <Page title={messages["announcements.goneTitle"]}>
        <p>{messages["announcements.gone"]}</p>
        <p>
          <a href="/announcements">{messages["announcements.all"]}</a>
        </p>
      </Page>
    );
  }

  const zone = displayZone.value;
  const at = item.publishedAt ?? item.createdAt;
  const corrected = item.updatedAt && at && instant(item.updatedAt) - instant(at) > 60_000 ? item.updatedAt : null;
  const session = item.sessionId ? model.value?.sessions.get(item.sessionId) : undefined;
  const audience =
    item.audience === "onsite"
      ? messages["announcements.forOnsite"]
      : item.audience === "online"
        ? messages["announcements.forOnline"]
        : item.audience === "session"
          ? messages["announcements.forSession"]
          : null;
  return (
    <Page title={localized(item, "title", lang.value)} titleLang={langOf(item, "title")}>
      <div class={`announcement-detail${isUrgent(item) ? " is-urgent" : ""}`}>
        {(isUrgent(item) || audience) && (
          <p class="card-badges">
            {isUrgent(item) && <Badge kind="urgent">{messages.urgent}</Badge>}
            {audience && <Badge kind="audience">{audience}</Badge>}
          </p>
        )}
        <p class="announcement-meta muted">
          {at && (
            <time dateTime={at} class="block">
              {messages["announcements.published"](publishedText(at, zone, locale.value))}
            </time>
          )}
          {corrected && (
            <time dateTime={corrected} class="block">
              {messages["announcements.corrected"](publishedText(corrected, zone, locale.value))}
            </time>
          )}
          {item.expiresAt && (
            <time dateTime={item.expiresAt} class="block">
              {messages["announcements.until"](publishedText(item.expiresAt, zone, locale.value))}
            </time>
          )}
        </p>
        <div class="prose announcement-body" lang={langOf(item, "body")}>
          {paragraphs(localized(item, "body", lang.value)).map((text, i) => (
            <p key={i}>
              <LinkedText text={text} />
            </p>
          ))}
        </div>
      </div>
      {session && model.value && (
        <section aria-labelledby="related-session">
          <h2 id="related-session">{messages["announcements.relatedSession"]}</h2>
          <ul class="cards">
            <SessionCard model={model.value} session={session} level={3} />
          </ul>
        </section>
      )}
      <p class="more-link">
        <a href="/announcements">{messages["announcements.all"]}</a>
      </p>
    </Page>
  );
}

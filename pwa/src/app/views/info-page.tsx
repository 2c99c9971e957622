/**
 * The organisers' Info pages: the list on Info, and one page — plain text, paragraphs at blank lines, line breaks
 * kept, http(s) URLs as links; nothing else is interpreted.
 */

import { localized, paragraphs, shownLanguage } from "../content";
import { venueMessages } from "../i18n/venue";
import { lang, t } from "../prefs";
import { model } from "../store";
import { infoPages } from "../venue-data";
import { StaleNote } from "../ui/common";
import { LinkedText } from "./announcement";
import "./venue.css";

/** The fields a page shows from a translation, so the ones its "may be out of date" note can name. */
const STALE_FIELDS = ["title", "body"] as const;

const find = (slug: string) => infoPages.value?.find((item) => item.slug === slug);

export function pageTitle(slug: string): string {
  const page = find(slug);
  return page ? localized(page, "title", lang.value) : t.value["venue.infoPages"];
}

export function InfoPageContent({ slug }: { slug: string }) {
  const messages = t.value;
  const vm = venueMessages();
  const page = find(slug);
  if (!page) {
    return (
      <p>
        {vm.pageMissing} <a href="/info">{messages.infoTitle}</a>
      </p>
    );
  }
  const original = model.value?.programme.event?.language ?? "en";
  return (
    <>
      <StaleNote entity={page} fields={STALE_FIELDS} />
      <div class="prose info-page" lang={shownLanguage(page, "body", lang.value, original)}>
        {paragraphs(localized(page, "body", lang.value)).map((text, i) => (
          <p key={i}>
            <LinkedText text={text} />
          </p>
        ))}
      </div>
    </>
  );
}

export function InfoPagesSection() {
  const messages = t.value;
  return (
    <section aria-labelledby="info-pages">
      <h2 id="info-pages">{messages["venue.infoPages"]}</h2>
      <ul class="plain-list info-pages">
        {(infoPages.value ?? []).map((page) => (
          <li key={page.id}>
            <a href={`/info/${encodeURIComponent(page.slug)}`}>{localized(page, "title", lang.value)}</a>
          </li>
        ))}
        <li>
          <a href="/map">{messages["venue.mapLink"]}</a>
        </li>
      </ul>
    </section>
  );
}

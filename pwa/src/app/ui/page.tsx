/** A view's frame: its one h1, and what to show while the programme is not on the device yet. */

import type { ComponentChildren } from "preact";

import { t } from "../prefs";
import { downloading, loaded, model, online, partial, syncNow, unreachable } from "../store";
import { Notice, useTitle } from "./common";

function ProgrammeMissing() {
  const messages = t.value;
  if (!loaded.value || (online.value && !unreachable.value)) {
    return (
      <Notice>
        <p class="loading">{messages.loading}</p>
        {downloading.value && (
          <p class="muted" role="status">
            {messages.loadingProgress(downloading.value.receivedKb, downloading.value.totalKb)}
          </p>
        )}
      </Notice>
    );
  }
  return (
    <Notice>
      <p>{online.value ? messages.loadFailed : messages.offlineFirstVisit}</p>
      <button type="button" class="button" onClick={() => void syncNow()}>
        {messages.tryAgain}
      </button>
    </Notice>
  );
}

/** Today's part is shown while the whole downloads: say the other days are coming, and how far along they are. */
function OtherDaysLoading() {
  const messages = t.value;
  const progress = downloading.value;
  return (
    <p class="muted" role="status">
      {messages.loadingOtherDays}
      {progress && ` ${messages.loadingProgress(progress.receivedKb, progress.totalKb)}`}
    </p>
  );
}

export interface PageProps {
  title: string;
  /** The title's language when it differs from the interface's. */
  titleLang?: string | undefined;
  children?: ComponentChildren;
  /** Shown under the heading, before the content. */
  lead?: ComponentChildren;
  needsProgramme?: boolean;
  wide?: boolean;
}

export function Page({ title, titleLang, children, lead, needsProgramme = true, wide = false }: PageProps) {
  useTitle(title);
  return (
    <div class={wide ? "page page-wide" : "page"}>
      <h1 id="page-title" tabIndex={-1} lang={titleLang}>
        {title}
      </h1>
      {lead}
      {partial.value && model.value && <OtherDaysLoading />}
      {needsProgramme && !model.value ? <ProgrammeMissing /> : children}
    </div>
  );
}

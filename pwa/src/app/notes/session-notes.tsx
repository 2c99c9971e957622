/** The "Notes" section of a session page: one note per session, the same on all the attendee's devices. */

import { sessionNoteId } from "../../shared/ydocs-engine";
import { t } from "../prefs";
import { docsReady } from "./state";
import { BoundText, IdentityLost, NoteStatusLine, NotesLoading, useDocsVersion, useWatchPrivate } from "./ui";

export function SessionNotes({ sessionId }: { sessionId: string }) {
  const messages = t.value;
  useDocsVersion();
  useWatchPrivate();
  const docId = sessionNoteId(sessionId);
  return (
    <section aria-labelledby="session-notes" class="session-notes">
      <h2 id="session-notes">{messages["notes.section"]}</h2>
      <IdentityLost />
      {docsReady.value ? (
        <div class="note-field">
          <label class="field-label" for="session-note">
            {messages["notes.sessionLabel"]}
          </label>
          <p class="field-hint muted" id="session-note-hint">
            {messages["notes.sessionHint"]}
          </p>
          <BoundText docId={docId} field="body" sessionId={sessionId} id="session-note" describedBy="session-note-hint session-note-status" />
          <NoteStatusLine docId={docId} id="session-note-status" />
        </div>
      ) : (
        <NotesLoading />
      )}
      <p class="note-links">
        <a href="/notes">{messages["notes.all"]}</a>
      </p>
    </section>
  );
}

/** My notes (`/notes`): notes on sessions in programme order, then other notes; and one note (`/notes/<uuid>`). */

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";

import type { Session } from "../../shared/types";
import { newNoteId, type NoteInfo } from "../../shared/ydocs-engine";
import { privateDocsNow } from "../../shared/ydocs";
import { localized } from "../content";
import { lang, locale, t } from "../prefs";
import { navigate } from "../router";
import { displayZone, model } from "../store";
import { formatDayShort, dayKey, formatStamp, formatTimeRange } from "../time";
import { byStart, plainText } from "../notes/markdown";
import { docsReady, noteStatus } from "../notes/state";
import {
  BoundText,
  ConfirmDialog,
  IdentityLost,
  LoseEveryDevice,
  VaultLocked,
  NoteStatusLine,
  NotesLoading,
  statusText,
  useDocsVersion,
  useWatchPrivate,
} from "../notes/ui";

/** Said once on My notes after a note was deleted. */
const flash = signal<string | null>(null);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function sessionWhen(session: Session, zone: string, localeName: string): string {
  const day = formatDayShort(dayKey(session.start, zone), localeName);
  return `${day}, ${formatTimeRange(session.start, session.end, zone, localeName)}`;
}

/** The start of a note's text as it reads, without its Markdown marks. */
function preview(text: string): string {
  const flat = plainText(text);
  return flat.length > 140 ? `${flat.slice(0, 139)}…` : flat;
}

function hasText(note: NoteInfo): boolean {
  return !note.deleted && (note.title.trim() !== "" || note.body.trim() !== "");
}

function NoteCard({ note, title, when, titleLang }: { note: NoteInfo; title: string; when: string; titleLang?: string | undefined }) {
  const status = noteStatus(note.id);
  const text = preview(note.body);
  return (
    <li class="card note-card">
      <h3 class="card-title">
        <a href={`/notes/${note.uuid}`} lang={titleLang}>
          {title}
        </a>
      </h3>
      <p class="card-meta">{when}</p>
      {text && <p class="note-preview">{text}</p>}
      {status && (
        <p class={`note-status note-status-${status}`}>
          <span class="note-status-dot" aria-hidden="true" />
          {statusText(status)}
        </p>
      )}
    </li>
  );
}

export function NotesContent() {
  const messages = t.value;
  useDocsVersion();
  useWatchPrivate();
  useEffect(
    () => () => {
      flash.value = null;
    },
    [],
  );
  const docs = privateDocsNow();
  const current = model.value;
  const zone = displayZone.value;
  const notes = docsReady.value && docs ? docs.notes().filter(hasText) : [];
  const onSessions = notes
    .filter((note) => note.sessionId !== null)
    .map((note) => ({ note, session: current?.sessions.get(note.sessionId!) }))
    .sort((a, b) => byStart(a.session?.start, b.session?.start) || a.note.createdAt - b.note.createdAt);
  const others = notes.filter((note) => note.sessionId === null).sort((a, b) => b.createdAt - a.createdAt);
  return (
    <>
      <p class="muted">{messages["notes.intro"]}</p>
      {flash.value && (
        <p class="callout" role="status">
          {flash.value}
        </p>
      )}
      <IdentityLost />
      <VaultLocked />
      {notes.length > 0 && <LoseEveryDevice />}
      <div class="notes-toolbar">
        <button
          type="button"
          class="button button-primary"
          onClick={() => {
            flash.value = null;
            navigate(`/notes/${newNoteId().slice("note:".length)}`);
          }}
        >
          {messages["notes.new"]}
        </button>
        <a href="/device" class="notes-devices-link">
          {messages["notes.devices"]}
        </a>
      </div>
      {!docsReady.value ? (
        <NotesLoading />
      ) : notes.length === 0 ? (
        <div class="empty-state">
          <p class="empty-title">{messages["notes.empty"]}</p>
          <p>{messages["notes.emptyHint"]}</p>
        </div>
      ) : (
        <>
          {onSessions.length > 0 && (
            <section aria-labelledby="notes-sessions">
              <h2 id="notes-sessions">{messages["notes.onSessions"]}</h2>
              <ul class="cards">
                {onSessions.map(({ note, session }) => (
                  <NoteCard
                    key={note.id}
                    note={note}
                    title={session ? localized(session, "title", lang.value) : messages["notes.sessionGone"]}
                    when={session && current ? sessionWhen(session, zone, locale.value) : ""}
                  />
                ))}
              </ul>
            </section>
          )}
          {others.length > 0 && (
            <section aria-labelledby="notes-other">
              <h2 id="notes-other">{messages["notes.other"]}</h2>
              <ul class="cards">
                {others.map((note) => (
                  <NoteCard
                    key={note.id}
                    note={note}
                    title={note.title.trim() || messages["notes.untitled"]}
                    when={messages["notes.written"](formatStamp(note.createdAt, locale.value))}
                  />
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </>
  );
}

export function NoteContent({ uuid }: { uuid: string }) {
  const messages = t.value;
  useDocsVersion();
  useWatchPrivate();
  const [confirming, setConfirming] = useState(false);
  const docs = privateDocsNow();
  if (!UUID.test(uuid)) return <p>{messages["notes.gone"]}</p>;
  if (!docsReady.value || !docs) return <NotesLoading />;
  const docId = `note:${uuid}`;
  const note = docs.note(docId);
  if (note?.deleted) {
    return (
      <>
        <p>{messages["notes.gone"]}</p>
        <p>
          <a href="/notes">{messages["notes.all"]}</a>
        </p>
      </>
    );
  }
  const current = model.value;
  const session = note?.sessionId ? current?.sessions.get(note.sessionId) : undefined;
  return (
    <>
      <IdentityLost />
      {note?.sessionId && (
        <p class="note-session">
          <span class="field-label">{messages["notes.forSession"]}: </span>
          {session && current ? (
            <>
              <a href={`/sessions/${encodeURIComponent(session.id)}`}>{localized(session, "title", lang.value)}</a>
              <span class="muted block">{sessionWhen(session, displayZone.value, locale.value)}</span>
            </>
          ) : (
            messages["notes.sessionGone"]
          )}
        </p>
      )}
      <div class="note-form">
        {!note?.sessionId && (
          <div class="note-field">
            <label class="field-label" for="note-title">
              {messages["notes.titleLabel"]}
            </label>
            <BoundText docId={docId} field="title" sessionId={null} id="note-title" multiline={false} />
          </div>
        )}
        <div class="note-field">
          <label class="field-label" for="note-body">
            {messages["notes.bodyLabel"]}
          </label>
          <BoundText docId={docId} field="body" sessionId={note?.sessionId ?? null} id="note-body" describedBy="note-status" />
          <NoteStatusLine docId={docId} id="note-status" />
        </div>
      </div>
      <div class="note-actions">
        <a href="/notes">{messages["notes.all"]}</a>
        {note && (
          <button type="button" class="button button-quiet button-small" onClick={() => setConfirming(true)}>
            {messages["notes.delete"]}
          </button>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        title={messages["notes.deleteQuestion"]}
        confirm={messages["notes.deleteConfirm"]}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          docs.deleteNote(docId);
          flash.value = messages["notes.deleted"];
          navigate("/notes", { replace: true });
        }}
      >
        <p>{messages["notes.deleteExplain"]}</p>
      </ConfirmDialog>
    </>
  );
}

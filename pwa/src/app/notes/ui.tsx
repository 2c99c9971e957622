/** Pieces of the notes views: a textarea bound to a note, its sync status, a confirmation dialog. */

import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";

import { MAX_NOTE_TEXT_BYTES } from "../../shared/private-api";
import { forgetIdentity } from "../../shared/private-store";
import { privateDocsNow } from "../../shared/ydocs";
import { t } from "../prefs";
import { bindTextarea } from "./binding";
import { docsVersion, identityState, linkedDevices, noteStatus, resumePrivateSync, vaultLocked, watchPrivate, type NoteStatus } from "./state";
import "./notes.css";

export interface BoundTextareaProps {
  docId: string;
  field: "title" | "body";
  /** The session a new note belongs to (null: free-standing). */
  sessionId: string | null;
  id: string;
  describedBy?: string;
  multiline?: boolean;
  placeholder?: string;
}

/** A <textarea> (or one-line <input>) bound to a Y.Text of a note; autosaved as the attendee types. */
export function BoundText({ docId, field, sessionId, id, describedBy, multiline = true, placeholder }: BoundTextareaProps) {
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const docs = privateDocsNow();
  const generation = docs?.generation ?? -1;
  useEffect(() => {
    const element = ref.current;
    if (!element || !docs) return;
    const text = docs.doc(docId).getText(field);
    return bindTextarea(element, text, {
      transact: (change) => void docs.editNote(docId, sessionId, change),
      isFocused: () => document.activeElement === element,
    });
  }, [docs, docId, field, sessionId, generation]);
  const common = {
    id,
    "aria-describedby": describedBy,
    placeholder,
    disabled: !docs,
    spellcheck: true,
    autoComplete: "off",
  };
  return multiline ? (
    <textarea ref={ref} class="note-text" rows={6} {...common} />
  ) : (
    <input ref={ref} class="note-title-input" type="text" {...common} />
  );
}

export function statusText(status: NoteStatus): string {
  const messages = t.value;
  switch (status) {
    case "local":
      return messages["notes.statusLocal"];
    case "syncing":
      return messages["notes.statusSyncing"];
    case "synced":
      return messages["notes.statusSynced"];
    case "tooLong":
      return messages["notes.statusTooLong"];
    case "offline":
      return `${messages["notes.statusLocal"]} · ${messages["notes.statusOffline"]}`;
  }
}

/** What is worth saying aloud: the note reached the server, or cannot for now. */
const ANNOUNCED: ReadonlySet<NoteStatus> = new Set(["synced", "offline", "tooLong"]);

/** A note's sync status, with a polite live region that speaks only the changes that matter. */
export function NoteStatusLine({ docId, id }: { docId: string; id?: string }) {
  const messages = t.value;
  const status = noteStatus(docId);
  const [spoken, setSpoken] = useState<NoteStatus | null>(status && ANNOUNCED.has(status) ? status : null);
  useEffect(() => {
    if (status && ANNOUNCED.has(status) && status !== spoken) setSpoken(status);
  }, [status, spoken]);
  return (
    <>
      <p class={`note-status note-status-${status ?? "none"}`} id={id} aria-live="off">
        {status && <span class="note-status-dot" aria-hidden="true" />}
        {status ? statusText(status) : ""}
      </p>
      {status === "tooLong" && <p class="callout callout-warn">{messages["notes.tooLong"](MAX_NOTE_TEXT_BYTES / 1024)}</p>}
      <p class="visually-hidden" aria-live="polite">
        {spoken ? statusText(spoken) : ""}
      </p>
    </>
  );
}

/** Poll for changes from the attendee's other devices while this component is on screen. */
export function useWatchPrivate(): void {
  useEffect(() => watchPrivate(), []);
}

/** Re-render on every change of the private documents. */
export function useDocsVersion(): number {
  return docsVersion.value;
}

/** Shown while the documents (and Yjs) load. */
export function NotesLoading() {
  return <p class="loading">{t.value["notes.loading"]}</p>;
}

/** The server no longer knows this device's attendee: say so, keep everything, offer to start again. */
export function IdentityLost() {
  const messages = t.value;
  const [busy, setBusy] = useState(false);
  if (identityState.value !== "lost") return null;
  return (
    <div class="callout callout-warn" role="note">
      <p>{messages["notes.identityLost"]}</p>
      <button
        type="button"
        class="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await forgetIdentity();
            await resumePrivateSync();
          } finally {
            setBusy(false);
          }
        }}
      >
        {messages["notes.startFresh"]}
      </button>
    </div>
  );
}

/** The notes are encrypted under a key this device lacks: say so, and where to link it again. */
export function VaultLocked() {
  const messages = t.value;
  if (!vaultLocked.value) return null;
  return (
    <div class="callout callout-warn" role="note">
      <p>{messages["notes.locked"]}</p>
      <p>
        <a href="/device#use-code">{messages["notes.lockedLink"]}</a>
      </p>
    </div>
  );
}

/** Only one device holds the notes: losing it loses them. Offer a second device and the export. */
export function LoseEveryDevice({ onDevicePage = false }: { onDevicePage?: boolean }) {
  const messages = t.value;
  if (identityState.value !== "active" || vaultLocked.value || (linkedDevices.value ?? 1) > 1) return null;
  return (
    <div class="callout" role="note">
      <p>{messages["device.loseAll"]}</p>
      {!onDevicePage && (
        <p>
          <a href="/device#link-another">{messages["device.loseAllLink"]}</a> · <a href="/device#export-notes">{messages["device.exportTitle"]}</a>
        </p>
      )}
    </div>
  );
}

export interface ConfirmProps {
  open: boolean;
  title: string;
  confirm: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  children?: ComponentChildren;
  danger?: boolean;
}

/** A modal confirmation (native <dialog>: focus stays inside, Escape cancels). */
export function ConfirmDialog({ open, title, confirm, onConfirm, onCancel, busy = false, children, danger = true }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // More than one dialog on a page: each is named by its own heading.
  const titleId = useId();
  const messages = t.value;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class="confirm-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onCancel} autoFocus>
          {messages["notes.cancel"]}
        </button>
        <button type="button" class={danger ? "button button-danger" : "button button-primary"} disabled={busy} onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </dialog>
  );
}

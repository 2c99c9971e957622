/**
 * Confirmation and content dialogs on the native <dialog> element: modal, Escape closes, focus
 * starts on the safe choice and goes back where it was when the dialog closes.
 */

import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { s } from "../strings";

interface ConfirmRequest {
  title: string;
  text: string;
  confirm: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

const pending = signal<ConfirmRequest | null>(null);

/** Ask before something that cannot be taken back; resolves true when confirmed. */
export function confirmAction(options: { title: string; text: string; confirm: string; danger?: boolean }): Promise<boolean> {
  pending.value?.resolve(false);
  return new Promise((resolve) => {
    pending.value = { ...options, danger: options.danger ?? true, resolve };
  });
}

/** A modal <dialog>; `onClose` runs when it closes by Escape, a button, or the caller. */
export function Modal({ labelledBy, children, onClose, initialFocus }: { labelledBy: string; children: ComponentChildren; onClose: () => void; initialFocus?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    if (initialFocus) dialog.querySelector<HTMLElement>(initialFocus)?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={labelledBy}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}

function ConfirmDialog({ request }: { request: ConfirmRequest }) {
  const finish = (ok: boolean) => {
    if (pending.value === request) pending.value = null;
    request.resolve(ok);
  };
  return (
    <Modal labelledBy="confirm-title" onClose={() => finish(false)} initialFocus=".dialog-dismiss">
      <h2 id="confirm-title" class="dialog-title">
        {request.title}
      </h2>
      <p>{request.text}</p>
      <div class="dialog-actions">
        <button type="button" class="button dialog-dismiss" onClick={() => finish(false)}>
          {s.goBack}
        </button>
        <button type="button" class={request.danger ? "button button-danger" : "button button-primary"} onClick={() => finish(true)}>
          {request.confirm}
        </button>
      </div>
    </Modal>
  );
}

/** Where confirmations appear; rendered once by the console. */
export function DialogHost() {
  const request = pending.value;
  return request ? <ConfirmDialog key={request.title} request={request} /> : null;
}

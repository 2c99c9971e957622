/** The console's live region: short confirmations ("Saved") that screen readers announce and sighted people see. */

import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";

interface Message {
  text: string;
  id: number;
}

const message = signal<Message | null>(null);
let next = 0;

/** Say something politely (it stays visible for a few seconds). */
export function announce(text: string): void {
  next += 1;
  message.value = { text, id: next };
}

export function StatusRegion() {
  const current = message.value;
  useEffect(() => {
    if (!current) return;
    const timer = setTimeout(() => {
      if (message.value?.id === current.id) message.value = null;
    }, 6000);
    return () => clearTimeout(timer);
  }, [current?.id]);
  return (
    <div class="status-region" role="status" aria-live="polite" aria-atomic="true">
      {current && (
        <p class="toast" key={current.id}>
          <span aria-hidden="true">✓ </span>
          {current.text}
        </p>
      )}
    </div>
  );
}

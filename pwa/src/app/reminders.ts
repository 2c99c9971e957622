/**
 * Reminders before bookmarked sessions. With notifications on (and the agenda on the server) they come as
 * Web Push from the server, also when the app is closed; otherwise the open app shows them in the page, from
 * the local agenda and programme, at the lead time chosen here (kept on this device).
 */

import { computed, signal } from "@preact/signals";

import { agendaOnServer } from "./notes/state";
import { notifyState } from "./notify";
import { dueReminders, reminderMinutes } from "./reminder-prefs";
import { bookmarks, model } from "./store";
import { appNow } from "./ui/clock";

const SHOWN_KEY = "kumpul.reminders.shown";

function readShown(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(SHOWN_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/** Reminders come as push from the server: notifications are on and the server knows the agenda. */
export const pushReminders = computed(() => notifyState.value === "on" && agendaOnServer.value);

/** Reminders dismissed stay dismissed: keyed by session and start, so a session that moved is reminded of anew. */
export const shownReminders = signal<ReadonlySet<string>>(new Set(readShown()));

export function dismissReminder(key: string): void {
  // Only keys of sessions still ahead need keeping; the list stays short.
  const kept = [...shownReminders.value].slice(-200);
  shownReminders.value = new Set([...kept, key]);
  try {
    localStorage.setItem(SHOWN_KEY, JSON.stringify([...shownReminders.value]));
  } catch {
    // Private mode: for this visit only.
  }
}

/** The reminders the page shows now (none while push brings them). */
export const pageReminders = computed(() => {
  const minutes = reminderMinutes.value;
  const programme = model.value;
  if (!minutes || !programme || pushReminders.value) return [];
  return dueReminders(programme.sessions.values(), bookmarks.value, minutes, appNow.value, shownReminders.value);
});

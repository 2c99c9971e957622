/**
 * The programme as the console sees it: read whole from `GET /api/programme` (public, with its
 * ETag), read again after every write and whenever `/api/live` says it changed; and the
 * scheduling warnings of `GET /api/admin/warnings`.
 */

import { computed, signal } from "@preact/signals";

import type { Programme, Session } from "../shared/types";
import { ApiError, get } from "./api";

export interface Warning {
  kind: "room-double-booked" | "speaker-double-booked" | string;
  sessionIds: string[];
  roomId?: string;
  speakerId?: string;
  message: string;
}

export const programme = signal<Programme | null>(null);
export const programmeError = signal<string | null>(null);
export const warnings = signal<Warning[]>([]);
/** Whether the warnings may be read (editors and admins). */
let warningsAllowed = false;

/** The event's time zone: every time in the console is entered and shown in it. */
export const zone = computed(() => programme.value?.event?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);

/** Session id → the warnings that name it. */
export const warningsBySession = computed(() => {
  const found = new Map<string, Warning[]>();
  for (const warning of warnings.value) {
    for (const id of warning.sessionIds) found.set(id, [...(found.get(id) ?? []), warning]);
  }
  return found;
});

export async function loadProgramme(): Promise<void> {
  try {
    programme.value = await get<Programme>("/api/programme");
    programmeError.value = null;
  } catch (error) {
    programmeError.value = error instanceof ApiError ? error.detail : String(error);
  }
}

export async function loadWarnings(): Promise<void> {
  if (!warningsAllowed) return;
  try {
    warnings.value = await get<Warning[]>("/api/admin/warnings");
  } catch {
    // Warnings are advice: the editor works on without them.
  }
}

/** Read programme and warnings again (after a write). */
export async function refresh(): Promise<void> {
  await Promise.all([loadProgramme(), loadWarnings()]);
}

let source: EventSource | null = null;
let pending: ReturnType<typeof setTimeout> | null = null;

/** Start reading (and following) the programme; `withWarnings` for roles that edit it. */
export function startProgramme(withWarnings: boolean): void {
  warningsAllowed = withWarnings;
  if (!withWarnings) warnings.value = [];
  void refresh();
  if (source || typeof EventSource === "undefined") return;
  source = new EventSource("/api/live");
  source.addEventListener("programme", () => {
    // Several writes in a row become one read.
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      void refresh();
    }, 300);
  });
}

export function stopProgramme(): void {
  source?.close();
  source = null;
  programme.value = null;
  warnings.value = [];
}

export function sessionById(id: string): Session | undefined {
  return programme.value?.sessions.find((session) => session.id === id);
}

export function nameOf(kind: "rooms" | "tracks" | "formats" | "speakers", id: string | null | undefined): string {
  if (!id) return "";
  return programme.value?.[kind].find((item) => item.id === id)?.name ?? id;
}

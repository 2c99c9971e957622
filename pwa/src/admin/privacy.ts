/**
 * Anonymity and recording policies only tighten through edits and imports (the server refuses the
 * rest); an admin reveals a speaker or loosens a policy on purpose, after a confirmation.
 */

import type { Recording } from "../shared/types";
import { post } from "./api";
import { refresh } from "./programme";

const LEVEL: Record<Recording, number> = { public: 0, "no-recording": 1, "off-the-record": 2 };
export const RECORDINGS: readonly Recording[] = ["public", "no-recording", "off-the-record"];

/** Whether an edit may set `wanted` on a session stored with `stored` (none stored: anything). */
export function editMaySet(stored: Recording | undefined, wanted: Recording): boolean {
  return stored === undefined || LEVEL[wanted] >= LEVEL[stored];
}

/** The policies only an admin's deliberate step can set on a session stored with `stored`. */
export function looserThan(stored: Recording): Recording[] {
  return RECORDINGS.filter((recording) => LEVEL[recording] < LEVEL[stored]);
}

/** Reveal an anonymous speaker (admins only). */
export async function revealSpeaker(id: string): Promise<void> {
  await post(`/api/admin/speakers/${encodeURIComponent(id)}/reveal`);
  await refresh();
}

/** Set a session's recording policy, less strict too (admins only). */
export async function setRecording(id: string, recording: Recording): Promise<void> {
  await post(`/api/admin/sessions/${encodeURIComponent(id)}/recording`, { recording });
  await refresh();
}

/** Writes of programme entities through the admin API, each followed by a fresh read of the programme. */

import { del, patch, post } from "./api";
import { changedFields } from "./drafts";
import { refresh } from "./programme";
import type { Kind } from "./router";

/**
 * Create (`id` null) or change an entity; a change sends only the fields that differ from
 * `stored`. Returns the entity as the server stored it (or `stored` when nothing differed).
 */
export async function saveEntity<T extends { id: string }>(
  kind: Kind,
  id: string | null,
  body: Record<string, unknown>,
  stored: T | null,
  defaults: Record<string, unknown>,
): Promise<T> {
  let saved: T;
  if (id === null || stored === null) {
    saved = await post<T>(`/api/admin/${kind}`, body);
  } else {
    const changes = changedFields(stored, body, defaults);
    if (Object.keys(changes).length === 0) return stored;
    saved = await patch<T>(`/api/admin/${kind}/${encodeURIComponent(id)}`, changes);
  }
  await refresh();
  return saved;
}

export async function deleteEntity(kind: Kind, id: string): Promise<void> {
  await del(`/api/admin/${kind}/${encodeURIComponent(id)}`);
  await refresh();
}

export async function cancelSession(id: string): Promise<void> {
  await patch(`/api/admin/sessions/${encodeURIComponent(id)}`, { status: "cancelled" });
  await refresh();
}

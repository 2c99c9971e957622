/** Announcements as the views see them: stored plus live, for this attendee, with the unread count. */

import { computed, signal } from "@preact/signals";

import { participation } from "../prefs";
import { bookmarks, now, programme } from "../store";
import { countUnread, mergeLive, visibleAnnouncements, type AudienceContext, type LiveEntry } from "./model";
import { readIds, readReady } from "./read";

/** Announcements and retractions the live stream brought, by id (see `mergeLive`). */
export const liveEntries = signal<ReadonlyMap<string, LiveEntry>>(new Map());

export const audience = computed<AudienceContext>(() => ({ participation: participation.value, bookmarks: bookmarks.value }));

/** Every current announcement: the stored programme's, with live events it has not caught up with. */
export const allAnnouncements = computed(() => mergeLive(programme.value?.announcements ?? [], programme.value?.cursor, liveEntries.value));

/** What the Announcements page lists: for this attendee, not expired, urgent pinned, newest first. */
export const announcements = computed(() => visibleAnnouncements(allAnnouncements.value, audience.value, now.value));

export const unreadCount = computed(() => (readReady.value ? countUnread(announcements.value, (id) => readIds.value.has(id)) : 0));

/** Whether to mark an announcement unread (nothing is, until the read marks are loaded). */
export function isUnread(id: string): boolean {
  return readReady.value && !readIds.value.has(id);
}

export function findAnnouncement(id: string) {
  return allAnnouncements.value.find((item) => item.id === id) ?? null;
}

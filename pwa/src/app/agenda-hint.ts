/**
 * The bookmarked session ids as last seen, kept in localStorage for the first screen: the private documents
 * (Yjs, loaded after the first paint) take a moment to open, and "Your next session" should not wait for them.
 * Once the documents are open they are the truth, and the hint follows them.
 */

import { computed, effect } from "@preact/signals";

import { bookmarks, docsReady } from "./notes/state";

const KEY = "kumpul.agendaHint";

function readHint(): ReadonlySet<string> {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return new Set(Array.isArray(stored) ? stored.filter((id): id is string => typeof id === "string") : []);
  } catch {
    return new Set();
  }
}

const hint = readHint();

effect(() => {
  if (!docsReady.value) return;
  try {
    localStorage.setItem(KEY, JSON.stringify([...bookmarks.value]));
  } catch {
    // Storage full or refused: the first screen waits for the documents instead.
  }
});

/** Bookmarks for the start page: the documents' once open, the hint until then. */
export const knownBookmarks = computed(() => (docsReady.value ? bookmarks.value : hint));

/**
 * Offline search over sessions: titles, subtitles, abstracts, descriptions and speaker names, in
 * every content language, insensitive to case and diacritics.
 */

import type { Programme } from "../shared/types";
import { allTexts } from "./content";

const MARKS = /\p{M}+/gu;
const SPACE = /[\s\p{P}\p{S}]+/gu;

/**
 * Text reduced to what a search compares: compatibility-decomposed, without combining marks
 * (accents, Thai vowel and tone marks alike), lower case, punctuation as spaces.
 */
export function normalise(text: string): string {
  return text.normalize("NFKD").replace(MARKS, "").toLowerCase().replace(SPACE, " ").trim();
}

/** The searchable text of each session, normalised once. */
export function buildIndex(programme: Programme): Map<string, string> {
  const speakerNames = new Map(programme.speakers.map((speaker) => [speaker.id, speaker.name]));
  const index = new Map<string, string>();
  for (const session of programme.sessions) {
    const texts = [
      ...allTexts(session, "title"),
      ...allTexts(session, "subtitle"),
      ...allTexts(session, "abstract"),
      ...allTexts(session, "description"),
      ...(session.speakerIds ?? []).map((id) => speakerNames.get(id) ?? ""),
    ];
    index.set(session.id, ` ${normalise(texts.join("\n"))} `);
  }
  return index;
}

/** The words of a query; a session matches when its text contains every one. */
export function queryTerms(query: string): string[] {
  return normalise(query).split(" ").filter(Boolean);
}

/** The ids of sessions whose text contains every term, in index order. */
export function matchSessions(index: Map<string, string>, terms: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const [id, text] of index) {
    if (terms.every((term) => text.includes(term))) found.add(id);
  }
  return found;
}

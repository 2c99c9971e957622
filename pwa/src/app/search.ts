/**
 * Offline search over sessions: titles, subtitles, abstracts, descriptions and speaker names, in
 * every content language, insensitive to case and diacritics, and finding word forms ("fishing" finds
 * "fishers"). The index is built once per programme; a keystroke only scans it.
 */

import type { Programme, Session } from "../shared/types";
import { normalise } from "./normalise";
import { stemEnglish, stemIndonesian, stemmerFor } from "./stem";

export { normalise };

const THAI = /[\u0e00-\u0e7f]/;

/** One session's searchable text: the normalised words, then a line of their stems (" stem " each). */
export type SearchIndex = Map<string, string>;

const FIELDS = ["title", "subtitle", "abstract", "description"] as const;

function stems(text: string, stem: ((word: string) => string) | null): string {
  if (!stem) return "";
  const out = new Set<string>();
  for (const word of text.split(" ")) if (word.length > 3) out.add(stem(word));
  return [...out].join(" ");
}

/** The texts of a session by the language they are written in (the original in the event's language). */
function textsByLanguage(session: Session, original: string): [string, string][] {
  const texts: [string, string][] = [];
  for (const field of FIELDS) {
    const text = session[field];
    if (typeof text === "string" && text) texts.push([original, text]);
  }
  for (const [language, translation] of Object.entries(session.translations ?? {})) {
    for (const field of FIELDS) {
      const text = translation?.[field];
      if (typeof text === "string" && text) texts.push([language, text]);
    }
  }
  return texts;
}

const built = new WeakMap<Programme, SearchIndex>();

/** The searchable text of each session, normalised and stemmed once per programme (then kept). */
export function buildIndex(programme: Programme): SearchIndex {
  const cached = built.get(programme);
  if (cached) return cached;
  const original = programme.event?.language || "en";
  const speakerNames = new Map(programme.speakers.map((speaker) => [speaker.id, speaker.name]));
  const index: SearchIndex = new Map();
  for (const session of programme.sessions) {
    const words: string[] = [];
    const stemmed: string[] = [];
    for (const [language, text] of textsByLanguage(session, original)) {
      const plain = normalise(text);
      words.push(plain);
      stemmed.push(stems(plain, stemmerFor(language)));
    }
    for (const id of session.speakerIds ?? []) words.push(normalise(speakerNames.get(id) ?? ""));
    index.set(session.id, ` ${words.join(" ")} \n ${stemmed.join(" ")} `);
  }
  built.set(programme, index);
  return index;
}

let segmenter: Intl.Segmenter | null | undefined;

/** Thai is written without spaces between words: Intl.Segmenter finds them (where the browser has it). */
function words(query: string): string[] {
  if (!THAI.test(query)) return query.split(/\s+/);
  if (segmenter === undefined) segmenter = typeof Intl.Segmenter === "function" ? new Intl.Segmenter("th", { granularity: "word" }) : null;
  if (!segmenter) return query.split(/\s+/);
  return [...segmenter.segment(query)].filter((part) => part.isWordLike).map((part) => part.segment);
}

/** The words of a query; a session matches when its text contains every one (or one of its word forms). */
export function queryTerms(query: string): string[] {
  return words(query).flatMap((word) => normalise(word).split(" ")).filter(Boolean);
}

/**
 * What a term is looked for as: the term itself anywhere, then (for longer terms) each stemmer's form as a
 * whole stemmed word. The query's language is unknown, so both stemmers are tried. Worked out once per
 * query, not once per session.
 */
function needles(term: string): string[] {
  if (term.length <= 3) return [term];
  const english = stemEnglish(term);
  const indonesian = stemIndonesian(term);
  return indonesian === english ? [term, ` ${english} `] : [term, ` ${english} `, ` ${indonesian} `];
}

/** The ids of sessions whose text contains every term, in index order. */
export function matchSessions(index: SearchIndex, terms: readonly string[]): Set<string> {
  const wanted = terms.map(needles);
  const found = new Set<string>();
  for (const [id, text] of index) {
    if (wanted.every((forms) => forms.some((form) => text.includes(form)))) found.add(id);
  }
  return found;
}

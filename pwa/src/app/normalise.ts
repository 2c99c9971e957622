/** Text reduced to what a search compares; shared by the programme's search and the speakers' filter. */

const MARKS = /\p{M}+/gu;
const SPACE = /[\s\p{P}\p{S}]+/gu;

/**
 * Text reduced to what a search compares: compatibility-decomposed, without combining marks
 * (accents, Thai vowel and tone marks alike), lower case, punctuation as spaces.
 */
export function normalise(text: string): string {
  return text.normalize("NFKD").replace(MARKS, "").toLowerCase().replace(SPACE, " ").trim();
}

/**
 * Light stemmers for search: word forms meet ("fishing" and "fishers" both give "fish"). They strip
 * common suffixes (English) and affixes (Indonesian and Malay); they are not dictionaries, and they only
 * have to agree with themselves, because the index and the query go through the same one.
 */

/** English suffixes, longest first; `y` marks "ies" that becomes "y". */
const EN_SUFFIXES: readonly [string, string][] = [
  ["ations", "at"],
  ["ation", "at"],
  ["ments", ""],
  ["ment", ""],
  ["ness", ""],
  ["ingly", ""],
  ["ings", ""],
  ["ing", ""],
  ["ers", ""],
  ["ies", "y"],
  ["ied", "y"],
  ["er", ""],
  ["ed", ""],
  ["ly", ""],
  ["es", ""],
  ["s", ""],
];

const DOUBLED = /([bdfgklmnprt])\1$/;

/** A final silent e goes too, so "migrate", "migrates" and "migration" meet at "migrat". */
export function stemEnglish(word: string): string {
  const stem = stripEnglishSuffix(word);
  return stem.length > 4 && stem.endsWith("e") ? stem.slice(0, -1) : stem;
}

function stripEnglishSuffix(word: string): string {
  if (word.length <= 3) return word;
  for (const [suffix, replacement] of EN_SUFFIXES) {
    if (!word.endsWith(suffix)) continue;
    // "class", "status", "analysis" keep their s.
    if (suffix === "s" && /(ss|us|is)$/.test(word)) return word;
    // "es" only after a sibilant ("buses", "matches"); elsewhere the e belongs to the word ("themes").
    if (suffix === "es" && !/(ss|x|z|ch|sh)es$/.test(word)) continue;
    const stem = word.slice(0, -suffix.length) + replacement;
    if (stem.length < 3) return word;
    // "running" → "run", "planned" → "plan".
    return DOUBLED.test(stem) && replacement === "" ? stem.slice(0, -1) : stem;
  }
  return word;
}

const ID_PARTICLE = /(lah|kah|tah|pun)$/;
const ID_POSSESSIVE = /(ku|mu|nya)$/;
const ID_SUFFIX = /(kan|an|i)$/;
/** Prefixes with what a nasal sound replaced: "menyelamatkan" → "selamat", "pemantauan" → "pantau". */
const ID_PREFIXES: readonly [string, string][] = [
  ["meny", "s"],
  ["peny", "s"],
  ["meng", ""],
  ["peng", ""],
  ["mem", "p"],
  ["pem", "p"],
  ["men", ""],
  ["pen", ""],
  ["ber", ""],
  ["per", ""],
  ["ter", ""],
  ["me", ""],
  ["pe", ""],
  ["di", ""],
  ["ke", ""],
];

function strip(word: string, pattern: RegExp, min: number): string {
  const stripped = word.replace(pattern, "");
  return stripped.length >= min ? stripped : word;
}

/** Indonesian and Malay: particles, possessives, one suffix and one prefix, keeping at least four letters. */
export function stemIndonesian(word: string): string {
  if (word.length <= 4) return word;
  let stem = strip(strip(word, ID_PARTICLE, 4), ID_POSSESSIVE, 4);
  stem = strip(stem, ID_SUFFIX, 4);
  for (const [prefix, restore] of ID_PREFIXES) {
    if (!stem.startsWith(prefix)) continue;
    let rest = stem.slice(prefix.length);
    // The nasal replaced a first consonant only before a vowel ("memakai" → "pakai", but "membaca" → "baca").
    if (restore && /^[aeiou]/.test(rest)) rest = restore + rest;
    if (rest.length >= 4) stem = rest;
    break;
  }
  return stem;
}

/** The stemmer for a content language; languages without one (Thai has no inflection) keep their words. */
export function stemmerFor(language: string): ((word: string) => string) | null {
  const primary = language.toLowerCase().split("-")[0];
  if (primary === "en") return stemEnglish;
  if (primary === "id" || primary === "ms") return stemIndonesian;
  return null;
}

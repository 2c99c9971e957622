/**
 * Interface languages: which ones exist, which one the browser asks for, and the messages of each.
 *
 * Adding a language is one catalogue file, `xx.ts` beside this one exporting `export const xx: Messages`,
 * plus its line in LANGUAGES. Only English is in the app shell; every other catalogue is its own chunk,
 * loaded when chosen (the service worker precaches them all, so a choice works offline).
 */

import { en, type Messages } from "./en";

export type { Messages };

export type Direction = "ltr" | "rtl";

/**
 * The languages the interface speaks: the code of the catalogue (its file name), the name of the language
 * in itself (the language menu), the locale Intl formats its dates, times and numbers with, and its
 * writing direction.
 */
export const LANGUAGES = [
  { code: "en", name: "English", locale: "en-GB", dir: "ltr" },
  { code: "id", name: "Bahasa Indonesia", locale: "id-ID", dir: "ltr" },
  { code: "th", name: "ไทย", locale: "th-TH", dir: "ltr" },
  { code: "ms", name: "Bahasa Melayu", locale: "ms-MY", dir: "ltr" },
  { code: "fil", name: "Filipino", locale: "fil-PH", dir: "ltr" },
  { code: "vi", name: "Tiếng Việt", locale: "vi-VN", dir: "ltr" },
  { code: "km", name: "ភាសាខ្មែរ", locale: "km-KH", dir: "ltr" },
  { code: "ne", name: "नेपाली", locale: "ne-NP", dir: "ltr" },
  { code: "bn", name: "বাংলা", locale: "bn-BD", dir: "ltr" },
  { code: "mn", name: "Монгол", locale: "mn-MN", dir: "ltr" },
  { code: "hi", name: "हिन्दी", locale: "hi-IN", dir: "ltr" },
] as const satisfies readonly { code: string; name: string; locale: string; dir: Direction }[];

export type Lang = (typeof LANGUAGES)[number]["code"];
export type Language = (typeof LANGUAGES)[number];

const BY_CODE = new Map<string, Language>(LANGUAGES.map((entry) => [entry.code, entry]));

export function language(code: Lang): Language {
  return BY_CODE.get(code)!;
}

/** The locale used for dates and numbers in each interface language. */
export const LOCALES = Object.fromEntries(LANGUAGES.map((entry) => [entry.code, entry.locale])) as Record<Lang, string>;

/** The catalogues other than English, each a lazy chunk: `./xx.ts` exports `xx`. */
const CATALOGUES = import.meta.glob<Record<string, Messages>>(["./*.ts", "!./index.ts", "!./en.ts", "!./pseudo.ts", "!./venue.ts"]);

/** The messages of a language: English at once, any other once its chunk has loaded. */
export async function loadMessages(code: Lang): Promise<Messages> {
  if (code === "en") return en;
  const load = CATALOGUES[`./${code}.ts`];
  if (!load) throw new Error(`No catalogue i18n/${code}.ts`);
  const module = await load();
  const messages = module[code];
  if (!messages) throw new Error(`i18n/${code}.ts does not export ${code}`);
  return messages;
}

/** The catalogue files present, by language code (for the check that LANGUAGES and the files agree). */
export const CATALOGUE_CODES: readonly string[] = Object.keys(CATALOGUES).map((path) => path.slice(2, -3));

export const ENGLISH: Messages = en;

/** Languages whose speakers read one of ours more easily than English. */
const NEAREST: Record<string, Lang> = { tl: "fil", zsm: "ms", nep: "ne", khm: "km", mon: "mn", ben: "bn", in: "id" };

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && BY_CODE.has(value);
}

/**
 * The interface language: the stored choice if any, else the first browser language we speak,
 * else English.
 */
export function pickLanguage(preferred: readonly string[], stored: string | null): Lang {
  if (isLang(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split(/[-_]/)[0] ?? "";
    if (isLang(primary)) return primary;
    const nearest = NEAREST[primary];
    if (nearest) return nearest;
  }
  return "en";
}

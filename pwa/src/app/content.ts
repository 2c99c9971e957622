/** Programme content in the reader's language: translations where they exist, the original otherwise. */

import { signal } from "@preact/signals";

type Translatable = { translations?: Record<string, Record<string, unknown> | undefined> };

/**
 * The event's choice for a translation whose source changed since (the server lists such fields in the
 * translation's `stale`): show it with a "may be out of date" marker, or show the original instead.
 */
export const showOriginalWhenStale = signal(false);

/** The usable translation of a field: its text, and whether its source changed since; null when there is none. */
function translationOf(entity: Translatable, field: string, lang: string): { text: string; stale: boolean } | null {
  const translation = entity.translations?.[lang];
  const text = translation?.[field];
  if (typeof text !== "string" || !text.trim()) return null;
  const staleFields = translation?.["stale"];
  const stale = Array.isArray(staleFields) && staleFields.includes(field);
  if (stale && showOriginalWhenStale.value) return null;
  return { text, stale };
}

/** A text field of an entity in `lang`, falling back to the entity's own text. */
export function localized<T extends Translatable, K extends keyof T & string>(entity: T, field: K, lang: string): string {
  const translated = translationOf(entity, field, lang);
  if (translated) return translated.text;
  const original = entity[field];
  return typeof original === "string" ? original : "";
}

/**
 * The language a field is shown in: `lang` when a translation exists, else the programme's own
 * language. Views mark fallback text with it so screen readers pronounce it right.
 */
export function shownLanguage<T extends Translatable>(entity: T, field: keyof T & string, lang: string, original: string): string {
  return translationOf(entity, field, lang) ? lang : original;
}

/** The fields of `entity` shown in `lang` from a translation whose source changed since it was made. */
export function staleShown<T extends Translatable>(entity: T, fields: readonly (keyof T & string)[], lang: string): (keyof T & string)[] {
  return fields.filter((field) => translationOf(entity, field, lang)?.stale === true && typeof entity[field] === "string" && entity[field]);
}

/** Every text of a field: the original and each translation (for search). */
export function allTexts<T extends Translatable, K extends keyof T & string>(entity: T, field: K): string[] {
  const texts: string[] = [];
  const original = entity[field];
  if (typeof original === "string" && original) texts.push(original);
  for (const translation of Object.values(entity.translations ?? {})) {
    const text = translation?.[field];
    if (typeof text === "string" && text) texts.push(text);
  }
  return texts;
}

/** How speakers of a language name it; what a listener looks for on an interpretation channel. */
const ENDONYMS: Record<string, string> = {
  en: "English",
  id: "Bahasa Indonesia",
  ms: "Bahasa Melayu",
  th: "ไทย",
  km: "ខ្មែរ",
  vi: "Tiếng Việt",
  fil: "Filipino",
  tl: "Tagalog",
  lo: "ລາວ",
  my: "မြန်မာ",
  zh: "中文",
  ja: "日本語",
  ko: "한국어",
  hi: "हिन्दी",
  bn: "বাংলা",
  ne: "नेपाली",
  si: "සිංහල",
  ta: "தமிழ்",
  ur: "اردو",
  tet: "Tetun",
};

const displayNames = new Map<string, Intl.DisplayNames | null>();

function namesIn(locale: string): Intl.DisplayNames | null {
  if (!displayNames.has(locale)) {
    try {
      displayNames.set(locale, new Intl.DisplayNames([locale], { type: "language", fallback: "none" }));
    } catch {
      displayNames.set(locale, null);
    }
  }
  return displayNames.get(locale) ?? null;
}

/**
 * A language's name as its speakers write it, followed by the name in the interface language when
 * that differs: "Bahasa Indonesia (Indonesian)", "ไทย (Thai)", "English".
 */
export function languageLabel(code: string, uiLang: string): string {
  const own = ENDONYMS[code] ?? namesIn(code)?.of(code) ?? code;
  const ours = namesIn(uiLang)?.of(code);
  return ours && ours.toLocaleLowerCase() !== own.toLocaleLowerCase() && !own.includes(ours) ? `${own} (${ours})` : own;
}

/** Initials for a placeholder portrait: first letters of the first and last words. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = Array.from(words[0] ?? "?")[0] ?? "?";
  const last = words.length > 1 ? (Array.from(words[words.length - 1]!)[0] ?? "") : "";
  return (first + last).toLocaleUpperCase();
}

/** Paragraphs of a text separated by blank lines. */
export function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Interface languages: which ones exist, which one the browser asks for, and the messages of each. */

import { en, type Messages } from "./en";
import { id } from "./id";
import { th } from "./th";

export type Lang = "en" | "id" | "th";
export type { Messages };

/** The languages the interface speaks, each named in itself. */
export const LANGUAGES: readonly { code: Lang; name: string }[] = [
  { code: "en", name: "English" },
  { code: "id", name: "Bahasa Indonesia" },
  { code: "th", name: "ไทย" },
];

export const MESSAGES: Record<Lang, Messages> = { en, id, th };

/** The locale used for dates and numbers in each interface language. */
export const LOCALES: Record<Lang, string> = { en: "en-GB", id: "id-ID", th: "th-TH" };

/** Languages whose speakers read one of ours more easily than English. */
const NEAREST: Record<string, Lang> = { ms: "id" };

export function isLang(value: unknown): value is Lang {
  return value === "en" || value === "id" || value === "th";
}

/**
 * The interface language: the stored choice if any, else the first browser language we speak,
 * else English.
 */
export function pickLanguage(preferred: readonly string[], stored: string | null): Lang {
  if (isLang(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0] ?? "";
    if (isLang(primary)) return primary;
    const nearest = NEAREST[primary];
    if (nearest) return nearest;
  }
  return "en";
}

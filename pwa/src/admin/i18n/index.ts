/**
 * The console's languages. `s` in ../strings.ts is the English reference every view reads; choosing another
 * language copies that language's texts into `s` (a lazy chunk per language, `./xx.ts` exporting `xx`) and
 * renders again, so views keep reading `s.key` and texts added to strings.ts need no other change.
 * Adding a language is one file here plus its line in CONSOLE_LANGUAGES.
 */

import { signal } from "@preact/signals";

import { s } from "../strings";

/** The console's texts: the shape of the English reference. */
export type ConsoleStrings = typeof s;

/** Each language named in itself, with its writing direction. */
export const CONSOLE_LANGUAGES = [
  { code: "en", name: "English", dir: "ltr" },
  { code: "id", name: "Bahasa Indonesia", dir: "ltr" },
] as const satisfies readonly { code: string; name: string; dir: "ltr" | "rtl" }[];

export type ConsoleLang = (typeof CONSOLE_LANGUAGES)[number]["code"];

const ENGLISH: ConsoleStrings = { ...s };
const CATALOGUES = import.meta.glob<Record<string, ConsoleStrings>>(["./*.ts", "!./index.ts"]);
const KEY = "kumpul.consoleLang";

export function isConsoleLang(value: unknown): value is ConsoleLang {
  return CONSOLE_LANGUAGES.some((entry) => entry.code === value);
}

/** The language on screen; the root component reads it, so a change renders the whole console again. */
export const consoleLang = signal<ConsoleLang>("en");

export async function loadConsoleStrings(code: ConsoleLang): Promise<ConsoleStrings> {
  if (code === "en") return ENGLISH;
  const load = CATALOGUES[`./${code}.ts`];
  if (!load) throw new Error(`No console catalogue i18n/${code}.ts`);
  const strings = (await load())[code];
  if (!strings) throw new Error(`i18n/${code}.ts does not export ${code}`);
  return strings;
}

/** Shows the console in `code` (remembered on this device when `remember`); English stays if loading fails. */
export async function setConsoleLang(code: ConsoleLang, remember = true): Promise<void> {
  if (remember) {
    try {
      localStorage.setItem(KEY, code);
    } catch {
      // Private mode: the choice lasts for this visit.
    }
  }
  let strings: ConsoleStrings;
  try {
    strings = await loadConsoleStrings(code);
  } catch {
    return;
  }
  Object.assign(s, strings);
  const entry = CONSOLE_LANGUAGES.find((item) => item.code === code)!;
  document.documentElement.lang = entry.code;
  document.documentElement.dir = entry.dir;
  consoleLang.value = code;
}

/** The stored choice, else Indonesian for a browser asking for Indonesian or Malay, else English. */
export function initialConsoleLang(): ConsoleLang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(KEY);
  } catch {
    stored = null;
  }
  if (isConsoleLang(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (isConsoleLang(primary)) return primary;
    if (primary === "ms" || primary === "in") return "id";
  }
  return "en";
}

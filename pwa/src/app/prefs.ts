/** The attendee's preferences (interface language, time zone), kept on the device and applied at once. */

import { computed, effect, signal } from "@preact/signals";

import { LANGUAGES, LOCALES, MESSAGES, pickLanguage, type Lang, type Messages } from "./i18n";

const LANG_KEY = "kumpul.lang";
const LOCAL_TIME_KEY = "kumpul.localTime";

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage full: the choice lasts for this visit only.
  }
}

export const lang = signal<Lang>(pickLanguage(navigator.languages ?? [navigator.language], read(LANG_KEY)));
/** The layout-checking pseudo-locale (see i18n/pseudo.ts): English underneath, every text longer. */
const pseudoMessages = signal<Messages | null>(null);
if (read(LANG_KEY) === "en-XA") void import("./i18n/pseudo").then((module) => (pseudoMessages.value = module.pseudoMessages(MESSAGES.en)));
export const t = computed(() => (pseudoMessages.value && lang.value === "en" ? pseudoMessages.value : MESSAGES[lang.value]));
export const locale = computed(() => LOCALES[lang.value]);
export const languageName = computed(() => LANGUAGES.find((entry) => entry.code === lang.value)!.name);

/** Show times in the device's time zone instead of the event's. */
export const useLocalTime = signal(read(LOCAL_TIME_KEY) === "1");
export const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function setLang(value: Lang): void {
  lang.value = value;
  write(LANG_KEY, value);
}

export function setUseLocalTime(value: boolean): void {
  useLocalTime.value = value;
  write(LOCAL_TIME_KEY, value ? "1" : "0");
}

/** How the attendee takes part ("onsite" | "online"), or null when not said: which announcements concern them. */
export type Participation = "onsite" | "online";
const PARTICIPATION_KEY = "kumpul.participation";
const storedParticipation = read(PARTICIPATION_KEY);
export const participation = signal<Participation | null>(
  storedParticipation === "onsite" || storedParticipation === "online" ? storedParticipation : null,
);

export function setParticipation(value: Participation | null): void {
  participation.value = value;
  write(PARTICIPATION_KEY, value ?? "");
}

effect(() => {
  document.documentElement.lang = lang.value;
});

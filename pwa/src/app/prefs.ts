/** The attendee's preferences (interface language, time zone), kept on the device and applied at once. */

import { computed, effect, signal } from "@preact/signals";

import { ENGLISH, language, loadMessages, pickLanguage, type Lang, type Messages } from "./i18n";

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

/** The chosen interface language. */
export const lang = signal<Lang>(pickLanguage(navigator.languages ?? [navigator.language], read(LANG_KEY)));
/** The language whose messages are on screen: English until the chosen language's catalogue has loaded. */
export const shownLang = signal<Lang>("en");
const loaded = new Map<Lang, Messages>([["en", ENGLISH]]);
const shownMessages = signal<Messages>(ENGLISH);

/** Loads the chosen language's catalogue (a lazy chunk, precached for offline) and shows it once it is here. */
function show(code: Lang): Promise<void> {
  const ready = loaded.get(code);
  if (ready) {
    shownMessages.value = ready;
    shownLang.value = code;
    return Promise.resolve();
  }
  return loadMessages(code).then(
    (messages) => {
      loaded.set(code, messages);
      if (lang.value !== code) return;
      shownMessages.value = messages;
      shownLang.value = code;
    },
    () => {
      // The chunk could not be loaded (offline before the service worker cached it): English stays.
    },
  );
}

/** Settles once the first choice's messages are shown, or failed to load (the entry waits on it briefly). */
export const languageReady: Promise<void> = show(lang.value);

/** The layout-checking pseudo-locale (see i18n/pseudo.ts): English underneath, every text longer. */
const pseudoMessages = signal<Messages | null>(null);
if (read(LANG_KEY) === "en-XA") void import("./i18n/pseudo").then((module) => (pseudoMessages.value = module.pseudoMessages(ENGLISH)));
export const t = computed(() => (pseudoMessages.value && shownLang.value === "en" ? pseudoMessages.value : shownMessages.value));
export const locale = computed(() => language(shownLang.value).locale);
export const languageName = computed(() => language(lang.value).name);

/** Show times in the device's time zone instead of the event's. */
export const useLocalTime = signal(read(LOCAL_TIME_KEY) === "1");
export const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function setLang(value: Lang): void {
  lang.value = value;
  write(LANG_KEY, value);
  void show(value);
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

/** The page's language and writing direction follow the messages on screen (from the LANGUAGES table). */
effect(() => {
  const shown = language(shownLang.value);
  document.documentElement.lang = shown.code;
  document.documentElement.dir = shown.dir;
});

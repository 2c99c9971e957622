/** Intl date formats are costly to build and used for every time shown: each is made once. */

const formats = new Map<string, Intl.DateTimeFormat>();
const supported = new Map<string, boolean>();

/** Whether this browser's Intl has date data for `locale` (desktop Chromium's trimmed ICU lacks km, ne and mn). */
export function hasDateNames(locale: string): boolean {
  let known = supported.get(locale);
  if (known === undefined) {
    known = Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
    supported.set(locale, known);
  }
  return known;
}

/** The day-first numeric form used where the browser cannot name days and months in the language. */
const NUMERIC_LOCALE = "en-GB";

/**
 * The options without words: no weekday, months as digits, offsets for zone names. A date in another
 * language's words would sit in the middle of the interface's own text, so digits it is ("23/07/2024").
 */
function wordless(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormatOptions {
  const out: Intl.DateTimeFormatOptions = { ...options };
  delete out.weekday;
  delete out.era;
  if (out.month && out.month !== "numeric") out.month = "2-digit";
  if (out.dateStyle) out.dateStyle = "short";
  if (out.timeZoneName === "long") out.timeZoneName = "longOffset";
  if (out.timeZoneName === "short") out.timeZoneName = "shortOffset";
  return out;
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let found = formats.get(key);
  if (!found) {
    found = hasDateNames(locale) ? new Intl.DateTimeFormat(locale, options) : new Intl.DateTimeFormat(NUMERIC_LOCALE, wordless(options));
    formats.set(key, found);
  }
  return found;
}

/** The CLDR plural forms a language may use; every language has `other`. */
export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

const pluralRules = new Map<string, Intl.PluralRules>();
const numberFormats = new Map<string, Intl.NumberFormat>();

/** A number as the language writes it (digits and grouping from Intl: Bengali and Nepali use their own digits). */
export function formatNumber(locale: string, n: number): string {
  let found = numberFormats.get(locale);
  if (!found) {
    found = new Intl.NumberFormat(locale);
    numberFormats.set(locale, found);
  }
  return found.format(n);
}

/**
 * The form of a counted phrase that the language's plural rules (Intl.PluralRules) choose for `n`, with
 * "{n}" replaced by the number as the language writes it. Forms the language does not use may be left out;
 * `other` is the fallback.
 */
export function plural(locale: string, n: number, forms: PluralForms): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return (forms[rules.select(n)] ?? forms.other).replaceAll("{n}", formatNumber(locale, n));
}

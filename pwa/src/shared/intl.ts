/** Intl date formats are costly to build and used for every time shown: each is made once. */

const formats = new Map<string, Intl.DateTimeFormat>();

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let found = formats.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
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

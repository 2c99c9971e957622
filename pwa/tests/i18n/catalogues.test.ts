/**
 * Every catalogue of the attendee app and of the console against its English reference: the same keys, no
 * extra ones, values of the same kind, functions of the same arity that put every argument into their text,
 * and the same {placeholders} in plain strings. Adding a language (or a key) needs no change here.
 */

import { describe, expect, it } from "vitest";

import { CONSOLE_LANGUAGES, loadConsoleStrings } from "../../src/admin/i18n";
import { s } from "../../src/admin/strings";
import { CATALOGUE_CODES, ENGLISH, LANGUAGES, language, loadMessages } from "../../src/app/i18n";
import { formatNumber } from "../../src/shared/intl";

type Catalogue = Record<string, unknown>;

/** Parameter names that take numbers; any other parameter gets a string. */
const NUMERIC = new Set(["n", "count", "kb", "added", "changed", "removed", "done", "total"]);
const NUMBERS = [0, 1, 2, 5, 21];
const STRINGS = ["«X»", "«Y»", "«Z»"];

/**
 * Functions whose arguments do not all end up in the text, with calls whose listed values must: `count`
 * chooses one of the two forms it is given; `audienceLabel` names the session only for a session audience;
 * `statusMinutes` counts hours from 60 minutes; `feedbackDistributionOf` takes the counts of each rating.
 */
const SPECIAL: Record<string, { args: unknown[]; shown: unknown[] }[]> = {
  count: NUMBERS.flatMap((n) => [{ args: [n, "«one»", "«other»"], shown: [n] }]),
  audienceLabel: [{ args: ["session", "«X»"], shown: ["«X»"] }],
  statusMinutes: [
    { args: [30], shown: [30] },
    { args: [120], shown: [2] },
  ],
  feedbackDistributionOf: [{ args: [[3, 0, 1, 7, 21]], shown: [21, 7] }],
};

function parameterNames(fn: (...args: never[]) => unknown): string[] {
  const source = fn.toString();
  const match = /^\s*(?:function\s*[\w$]*\s*)?\(?([^)=]*?)\)?\s*(?:=>|\{)/.exec(source);
  return (match?.[1] ?? "")
    .split(",")
    .map((name) => name.trim().replace(/[:=].*$/, "").trim())
    .filter(Boolean);
}

/** Sample calls of an English function: every numeric sample in each numeric position, distinct strings. */
function sampleCalls(key: string, fn: (...args: never[]) => unknown): { args: unknown[]; shown: unknown[] }[] {
  const special = SPECIAL[key];
  if (special) return special;
  const names = parameterNames(fn);
  expect(names.length, `${key}: parameters ${names.join(", ")}`).toBe(fn.length);
  return NUMBERS.map((_, k) => {
    let strings = 0;
    const args = names.map((name, i) => (NUMERIC.has(name) ? NUMBERS[(k + i) % NUMBERS.length] : STRINGS[strings++ % STRINGS.length]));
    return { args, shown: args };
  });
}

function appears(text: string, value: unknown, locales: string[]): boolean {
  if (typeof value !== "number") return text.includes(String(value));
  const forms = new Set([String(value), ...locales.map((locale) => formatNumber(locale, value))]);
  return [...forms].some((form) => new RegExp(`(?<!\\p{Nd})${form}(?!\\p{Nd})`, "u").test(text));
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

function compare(name: string, reference: Catalogue, catalogue: Catalogue, locales: string[], translated = true): void {
  expect(Object.keys(catalogue).filter((key) => !(key in reference)), `${name}: keys English does not have`).toEqual([]);
  expect(Object.keys(reference).filter((key) => !(key in catalogue)), `${name}: keys missing`).toEqual([]);
  for (const [key, english] of Object.entries(reference)) {
    const value = catalogue[key];
    const where = `${name} ${key}`;
    expect(typeof value, where).toBe(typeof english);
    if (typeof english === "string") {
      expect((value as string).trim(), `${where} is empty`).not.toBe("");
      expect(placeholders(value as string), `${where}: placeholders`).toEqual(placeholders(english));
    } else if (typeof english === "function") {
      const fn = value as (...args: unknown[]) => unknown;
      expect(fn.length, `${where}: arity`).toBe(english.length);
      for (const { args, shown } of sampleCalls(key, english as (...args: never[]) => unknown)) {
        const text = fn(...args);
        expect(typeof text, `${where}(${args.join(", ")})`).toBe("string");
        for (const arg of shown) {
          expect(appears(text as string, arg, locales), `${where}(${args.join(", ")}) = ${String(text)} lacks ${String(arg)}`).toBe(true);
        }
        expect(text as string, `${where}(${args.join(", ")}) shows a raw placeholder or NaN`).not.toMatch(/\{n\}|NaN|undefined/);
      }
    } else if (Array.isArray(english)) {
      expect(Array.isArray(value) && value.length, `${where}: items`).toBe(english.length);
      for (const item of value as unknown[]) expect(typeof item === "string" && item.trim() !== "", `${where}: item`).toBe(true);
    } else if (english && typeof english === "object") {
      expect(Object.keys(value as object).sort(), `${where}: keys`).toEqual(Object.keys(english).sort());
    }
  }
  if (translated) {
    const strings = Object.keys(reference).filter((key) => typeof reference[key] === "string");
    const same = strings.filter((key) => catalogue[key] === reference[key]);
    // Some words are the same in many languages ("Online", "Format", "Info"); whole catalogues left in English are not.
    expect(same.length / strings.length, `${name}: untranslated ${same.join(", ")}`).toBeLessThan(0.05);
  }
}

describe("attendee app catalogues", () => {
  it("exist for exactly the languages in the LANGUAGES table", () => {
    expect([...CATALOGUE_CODES, "en"].sort()).toEqual(LANGUAGES.map((entry) => entry.code).sort());
    expect(new Set(LANGUAGES.map((entry) => entry.name)).size).toBe(LANGUAGES.length);
    for (const entry of LANGUAGES) {
      expect(Intl.DateTimeFormat.supportedLocalesOf([entry.locale]), `${entry.code}: Intl knows ${entry.locale}`).toEqual([entry.locale]);
      expect(["ltr", "rtl"]).toContain(entry.dir);
    }
  });

  for (const { code } of LANGUAGES) {
    it(`${code}: same keys, kinds, arities, arguments and placeholders as English`, async () => {
      const messages = await loadMessages(code);
      compare(code, ENGLISH as unknown as Catalogue, messages as unknown as Catalogue, [code, language(code).locale], code !== "en");
    });
  }
});

describe("console catalogues", () => {
  for (const { code } of CONSOLE_LANGUAGES) {
    it(`${code}: same keys, kinds, arities, arguments and placeholders as English`, async () => {
      const strings = await loadConsoleStrings(code);
      compare(`console ${code}`, s as unknown as Catalogue, strings as unknown as Catalogue, [code], code !== "en");
    });
  }
});

describe("the check itself", () => {
  it("catches a missing key, an extra key, a changed arity, a dropped argument and a lost placeholder", () => {
    const reference: Catalogue = { a: "A {name}", b: (n: number) => `${n} b`, c: (title: string) => `c ${title}` };
    const broken: Catalogue[] = [
      { a: "A {name}", b: (n: number) => `${n} b` },
      { ...reference, d: "D" },
      { ...reference, b: () => "b" },
      { ...reference, c: (title: string) => `c${title.length ? "" : "?"}` },
      { ...reference, a: "A" },
    ];
    for (const catalogue of broken) expect(() => compare("broken", reference, catalogue, ["en"])).toThrow();
    expect(() => compare("same", reference, reference, ["en"], false)).not.toThrow();
  });
});

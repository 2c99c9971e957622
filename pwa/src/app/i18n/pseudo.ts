/**
 * The pseudo-locale `en-XA` for layout checks, never offered in the language menu: every English text with
 * accented letters and 40 % longer, so that a view which fits it fits every real translation. Chosen by
 * storing "en-XA" as the interface language (the browser tests do).
 */

import type { Messages } from "./en";

const ACCENTED: Record<string, string> = { a: "á", e: "é", i: "í", o: "ö", u: "ü", A: "Á", E: "É", I: "Í", O: "Ö", U: "Ü", c: "ç", n: "ñ" };
const FILLER = "ŀöñĝ ţéẋţ ƒöŕ ŵíðţĥ çĥéçķ";

export function pseudo(text: string): string {
  const accented = text.replace(/[aeiouAEIOUcn]/g, (char) => ACCENTED[char] ?? char);
  const extra = Math.ceil(text.length * 0.4);
  return extra > 0 ? `${accented} ${FILLER.repeat(Math.ceil(extra / FILLER.length)).slice(0, extra).trim()}` : accented;
}

/** Every message of `messages` through `pseudo`, functions included. */
export function pseudoMessages(messages: Messages): Messages {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(messages)) {
    out[key] =
      typeof value === "string"
        ? pseudo(value)
        : typeof value === "function"
          ? (...args: unknown[]) => {
              const result = (value as (...a: unknown[]) => unknown)(...args);
              return typeof result === "string" ? pseudo(result) : result;
            }
          : value;
  }
  return out as Messages;
}

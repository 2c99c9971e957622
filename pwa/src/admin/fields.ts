/** Server refusals mapped to the form fields they name, so each message stands beside its field. */

import type { ApiError, FieldProblem } from "./api";

export interface FormErrors {
  /** Message per field name (the form's camelCase field). */
  fields: Record<string, string>;
  /** What names no field of the form: shown above it. */
  general: string[];
}

export const NO_ERRORS: FormErrors = { fields: {}, general: [] };

/**
 * The field a problem's key names: `speakerIds[1]` → `speakerIds`, `links[0].url` → `links`,
 * `$.title` / `data.title` / `body.title` (how validators may spell it) → `title`.
 */
export function fieldOf(key: string): string {
  const path = key.trim().replace(/^\$\.?/, "").replace(/^(data|body)(\.|$)/, "");
  return path.split(/[.[]/, 1)[0] ?? "";
}

/**
 * Sort a refusal's problems onto the form's fields; anything else (and the detail, when no
 * problem names a field) becomes a general message. The first message for a field wins.
 */
export function mapProblems(detail: string, problems: readonly FieldProblem[], fields: readonly string[], aliases: Record<string, string> = {}): FormErrors {
  const known = new Set(fields);
  const result: FormErrors = { fields: {}, general: [] };
  for (const problem of problems) {
    const root = fieldOf(problem.key);
    const field = aliases[root] ?? root;
    const message = problem.message || detail;
    if (field && known.has(field)) {
      if (!(field in result.fields)) result.fields[field] = message;
    } else {
      const text = problem.key && !message.includes(problem.key) ? `${problem.key}: ${message}` : message;
      if (!result.general.includes(text)) result.general.push(text);
    }
  }
  if (Object.keys(result.fields).length === 0 && result.general.length === 0) result.general.push(detail);
  return result;
}

/** `mapProblems` for an `ApiError` (a 429 says how long to wait). */
export function errorsFrom(error: ApiError, fields: readonly string[], aliases: Record<string, string> = {}): FormErrors {
  if (error.status === 429) return { fields: {}, general: [waitMessage(error)] };
  if (error.status === 400 || error.status === 409) return mapProblems(error.detail, error.problems, fields, aliases);
  return { fields: {}, general: [error.detail] };
}

/** "Too many attempts: wait 30 seconds and try again." */
export function waitMessage(error: { retryAfter: number | null }): string {
  const seconds = error.retryAfter ?? 60;
  if (seconds >= 120) return `Too many attempts. Wait ${Math.ceil(seconds / 60)} minutes and try again.`;
  return `Too many attempts. Wait ${seconds} ${seconds === 1 ? "second" : "seconds"} and try again.`;
}

export function hasErrors(errors: FormErrors): boolean {
  return errors.general.length > 0 || Object.keys(errors.fields).length > 0;
}

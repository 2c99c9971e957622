/**
 * Labelled form controls whose errors stand beside them: `aria-invalid` and `aria-describedby`
 * point at the message (and the hint), and the form moves focus to the first invalid control.
 */

import type { ComponentChildren, RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

import { NO_ERRORS, type FormErrors } from "../fields";
import { s } from "../strings";

interface Described {
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
}

/** The id of a form's field, and the attributes tying the field to its hint and error. */
export function describe(form: string, name: string, error?: string, hint?: string): { id: string } & Described {
  const id = `${form}-${name}`;
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ");
  return { id, ...(error ? { "aria-invalid": "true" as const } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}) };
}

export function Hint({ id, text }: { id: string; text?: string | undefined }) {
  return text ? (
    <p class="field-hint" id={`${id}-hint`}>
      {text}
    </p>
  ) : null;
}

export function FieldError({ id, text }: { id: string; text?: string | undefined }) {
  return text ? (
    <p class="field-error" id={`${id}-error`}>
      <span aria-hidden="true">⚠ </span>
      {text}
    </p>
  ) : null;
}

interface BaseProps {
  form: string;
  name: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  optional?: boolean;
  class?: string;
}

type InputProps = BaseProps & {
  value: string;
  onValue: (value: string) => void;
  type?: "text" | "password" | "url" | "datetime-local" | "color" | "search";
  autoComplete?: string;
  maxLength?: number;
  minLength?: number;
  inputMode?: "numeric" | "text" | "url";
  /** The language of what is typed (a translation), so spelling and screen readers follow it. */
  lang?: string;
  /** Overrides for a control that stands for a group's error (the first of a list). */
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
  /** Another element that describes the field too (a note shared by several fields). */
  describedBy?: string;
};

function Label({ id, label, optional }: { id: string; label: string; optional?: boolean | undefined }) {
  return (
    <label class="field-label" for={id}>
      {label}
      {optional && <span class="field-optional"> ({s.optional})</span>}
    </label>
  );
}

export function TextField({ form, name, label, error, hint, optional, value, onValue, class: className, type = "text", describedBy, ...rest }: InputProps) {
  const attrs = describe(form, name, error, hint);
  if (describedBy) attrs["aria-describedby"] = [attrs["aria-describedby"], describedBy].filter(Boolean).join(" ");
  return (
    <div class={`field ${className ?? ""} ${error ? "has-error" : ""}`}>
      <Label id={attrs.id} label={label} optional={optional} />
      <Hint id={attrs.id} text={hint} />
      <input name={name} type={type as "text"} {...attrs} {...rest} value={value} onInput={(event) => onValue(event.currentTarget.value)} />
      <FieldError id={attrs.id} text={error} />
    </div>
  );
}

type AreaProps = BaseProps & { value: string; onValue: (value: string) => void; rows?: number; maxLength?: number; lang?: string };

export function TextArea({ form, name, label, error, hint, optional, value, onValue, rows = 4, maxLength, lang, class: className }: AreaProps) {
  const attrs = describe(form, name, error, hint);
  return (
    <div class={`field ${className ?? ""} ${error ? "has-error" : ""}`}>
      <Label id={attrs.id} label={label} optional={optional} />
      <Hint id={attrs.id} text={hint} />
      <textarea name={name} rows={rows} maxLength={maxLength} lang={lang} {...attrs} value={value} onInput={(event) => onValue(event.currentTarget.value)} />
      <FieldError id={attrs.id} text={error} />
    </div>
  );
}

type SelectProps = BaseProps & {
  value: string;
  onValue: (value: string) => void;
  options: readonly { value: string; label: string }[];
  placeholder?: string;
  disabled?: boolean;
};

export function SelectField({ form, name, label, error, hint, optional, value, onValue, options, placeholder, disabled, class: className }: SelectProps) {
  const attrs = describe(form, name, error, hint);
  return (
    <div class={`field ${className ?? ""} ${error ? "has-error" : ""}`}>
      <Label id={attrs.id} label={label} optional={optional} />
      <Hint id={attrs.id} text={hint} />
      <select name={name} {...attrs} value={value} disabled={disabled} onChange={(event) => onValue(event.currentTarget.value)}>
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldError id={attrs.id} text={error} />
    </div>
  );
}

/** Messages that name no field, above the form; announced when they appear. */
export function ErrorSummary({ errors }: { errors: FormErrors }) {
  const count = Object.keys(errors.fields).length;
  if (!errors.general.length && !count) return null;
  return (
    <div class="error-summary" role="alert">
      {errors.general.map((message) => (
        <p key={message}>{message}</p>
      ))}
      {count > 0 && !errors.general.length && <p>{s.fixBelow} {Object.values(errors.fields).join(" ")}</p>}
    </div>
  );
}

/**
 * The errors of one form. `refuse` shows errors after a refused save and moves focus to the first invalid
 * control (or the summary); `clear` takes them away after a save went through. `form` goes on the `<form>`.
 */
export function useFormErrors(): { form: RefObject<HTMLFormElement | null>; errors: FormErrors; refuse: (found: FormErrors) => void; clear: () => void } {
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [refusals, setRefusals] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!refusals) return;
    const target = form.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.current?.querySelector<HTMLElement>(".error-summary");
    if (target) {
      if (target.classList.contains("error-summary")) target.tabIndex = -1;
      target.focus();
    }
  }, [refusals]);
  const refuse = (found: FormErrors) => {
    setErrors(found);
    setRefusals((n) => n + 1);
  };
  return { form, errors, refuse, clear: () => setErrors(NO_ERRORS) };
}

export function Fieldset({ legend, children, class: className }: { legend: string; children: ComponentChildren; class?: string }) {
  return (
    <fieldset class={`fieldset ${className ?? ""}`}>
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}

/**
 * A plain <textarea> bound to a Y.Text with minimal changes: each input becomes one delete and one
 * insert at the changed range (so two devices typing in different places both keep their words),
 * and remote changes update the textarea with the caret and selection kept where the user was.
 * While an input method composes a word, remote changes wait until the composition ends.
 */

import type { Text as YText, YTextEvent } from "yjs";

export interface TextChange {
  index: number;
  remove: number;
  insert: string;
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * The one range that differs between `before` and `after` (null when equal). `caret`, the caret
 * after the edit, decides where a run of equal characters grew ("aa" → "aaa" at the start).
 */
export function diffText(before: string, after: string, caret?: number): TextChange | null {
  if (before === after) return null;
  const shortest = Math.min(before.length, after.length);
  let start = 0;
  while (start < shortest && before.charCodeAt(start) === after.charCodeAt(start)) start += 1;
  const grown = after.length - before.length;
  if (caret !== undefined && grown > 0) start = Math.min(start, Math.max(0, caret - grown));
  let end = 0;
  while (end < shortest - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end += 1;
  // Never split a surrogate pair (emoji, rare scripts).
  if (start > 0 && isHigh(before.charCodeAt(start - 1))) start -= 1;
  if (end > 0 && isLow(after.charCodeAt(after.length - end)) && after.length - end > start) end -= 1;
  return { index: start, remove: before.length - end - start, insert: after.slice(start, after.length - end) };
}

/** Where position `pos` of the text before `change` is after it (inside a replaced range: after the insert). */
export function mapThroughChange(pos: number, change: TextChange): number {
  if (pos <= change.index) return pos;
  if (pos >= change.index + change.remove) return pos + change.insert.length - change.remove;
  return change.index + change.insert.length;
}

export type Delta = YTextEvent["delta"];

/** Where position `pos` of the old text is after a Yjs text delta (text inserted at `pos` stays after it). */
export function mapThroughDelta(pos: number, delta: Delta): number {
  let old = 0;
  let result = pos;
  for (const op of delta) {
    if (old >= pos) break;
    if (op.retain !== undefined) old += op.retain;
    else if (op.insert !== undefined) result += typeof op.insert === "string" ? op.insert.length : 1;
    else if (op.delete !== undefined) {
      result -= Math.min(op.delete, pos - old);
      old += op.delete;
    }
  }
  return result;
}

/** What the binding needs of a <textarea> (a test can pass a plain object). */
export interface TextareaLike {
  value: string;
  selectionStart: number | null;
  selectionEnd: number | null;
  selectionDirection?: "forward" | "backward" | "none" | null;
  setSelectionRange(start: number, end: number, direction?: "forward" | "backward" | "none"): void;
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export interface BindOptions {
  /** Run a local change in a transaction (e.g. one that also sets the note's metadata). */
  transact?: (change: () => void) => void;
  /** Whether the textarea has focus (its caret is only moved then). */
  isFocused?: () => boolean;
}

/** Bind `textarea` to `text`; returns the function that unbinds. */
export function bindTextarea(textarea: TextareaLike, text: YText, options: BindOptions = {}): () => void {
  const transact = options.transact ?? ((change) => text.doc!.transact(change));
  const isFocused = options.isFocused ?? (() => true);
  let shown = text.toString();
  if (textarea.value !== shown) textarea.value = shown;
  let applying = false;
  let composing = false;
  /** The Y.Text holds changes from elsewhere that the textarea does not show yet. */
  let behind = false;

  function onInput(): void {
    const value = textarea.value;
    const change = diffText(shown, value, textarea.selectionEnd ?? undefined);
    if (!change) return;
    let { index, remove } = change;
    if (behind) {
      // The Y.Text moved on meanwhile: find the same place in it.
      const remote = diffText(shown, text.toString());
      if (remote) {
        const end = mapThroughChange(index + remove, remote);
        index = mapThroughChange(index, remote);
        remove = Math.max(0, end - index);
      }
    }
    shown = value;
    applying = true;
    try {
      transact(() => {
        if (remove > 0) text.delete(index, remove);
        if (change.insert) text.insert(index, change.insert);
      });
    } finally {
      applying = false;
    }
  }

  function show(value: string, map: (pos: number) => number): void {
    const start = textarea.selectionStart;
    const end = textarea.selectionEnd;
    const direction = textarea.selectionDirection ?? undefined;
    textarea.value = value;
    shown = value;
    if (isFocused() && start !== null && end !== null) textarea.setSelectionRange(map(start), map(end), direction ?? undefined);
  }

  function catchUp(): void {
    if (!behind) return;
    behind = false;
    const value = text.toString();
    const change = diffText(shown, value);
    if (change) show(value, (pos) => mapThroughChange(pos, change));
  }

  function observer(event: YTextEvent): void {
    if (applying) return;
    if (composing || behind) {
      behind = true;
      return;
    }
    const delta = event.delta;
    show(text.toString(), (pos) => mapThroughDelta(pos, delta));
  }

  const onCompositionStart = () => {
    composing = true;
  };
  const onCompositionEnd = () => {
    composing = false;
    onInput();
    catchUp();
  };
  const onBlur = () => {
    composing = false;
    catchUp();
  };

  textarea.addEventListener("input", onInput);
  textarea.addEventListener("compositionstart", onCompositionStart);
  textarea.addEventListener("compositionend", onCompositionEnd);
  textarea.addEventListener("blur", onBlur);
  text.observe(observer);
  return () => {
    textarea.removeEventListener("input", onInput);
    textarea.removeEventListener("compositionstart", onCompositionStart);
    textarea.removeEventListener("compositionend", onCompositionEnd);
    textarea.removeEventListener("blur", onBlur);
    text.unobserve(observer);
  };
}

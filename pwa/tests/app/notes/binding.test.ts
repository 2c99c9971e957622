import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import { bindTextarea, diffText, mapThroughDelta, type TextareaLike } from "../../../src/app/notes/binding";

/** A stand-in for a <textarea>: value, selection, and the events the binding listens to. */
class FakeTextarea implements TextareaLike {
  value = "";
  selectionStart: number | null = 0;
  selectionEnd: number | null = 0;
  selectionDirection: "forward" | "backward" | "none" | null = "none";
  private listeners = new Map<string, Set<() => void>>();

  setSelectionRange(start: number, end: number): void {
    this.selectionStart = start;
    this.selectionEnd = end;
  }

  addEventListener(type: string, listener: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }

  removeEventListener(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener);
  }

  fire(type: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }

  /** Type `text` at the caret, as a browser would (value and caret change, then "input"). */
  type(text: string, at = this.selectionEnd ?? this.value.length): void {
    this.value = this.value.slice(0, at) + text + this.value.slice(at);
    this.selectionStart = this.selectionEnd = at + text.length;
    this.fire("input");
  }

  /** Select [start, end) and delete it (Backspace over a selection). */
  deleteRange(start: number, end: number): void {
    this.value = this.value.slice(0, start) + this.value.slice(end);
    this.selectionStart = this.selectionEnd = start;
    this.fire("input");
  }
}

function exchange(a: Y.Doc, b: Y.Doc): void {
  const toB = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  const toA = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
  Y.applyUpdate(b, toB, "remote");
  Y.applyUpdate(a, toA, "remote");
}

describe("diffText", () => {
  it("finds the one changed range", () => {
    expect(diffText("hello world", "hello brave world")).toEqual({ index: 6, remove: 0, insert: "brave " });
    expect(diffText("hello brave world", "hello world")).toEqual({ index: 6, remove: 6, insert: "" });
    expect(diffText("abc", "aXc")).toEqual({ index: 1, remove: 1, insert: "X" });
    expect(diffText("same", "same")).toBeNull();
  });

  it("uses the caret to place an insert inside a run of equal characters", () => {
    expect(diffText("aa", "aaa")).toEqual({ index: 2, remove: 0, insert: "a" });
    expect(diffText("aa", "aaa", 1)).toEqual({ index: 0, remove: 0, insert: "a" });
  });

  it("never splits a surrogate pair", () => {
    const change = diffText("x😀", "x😃")!;
    expect(change).toEqual({ index: 1, remove: 2, insert: "😃" });
  });
});

describe("mapThroughDelta", () => {
  it("moves a position over inserts and deletes before it, not after", () => {
    expect(mapThroughDelta(5, [{ insert: "abc" }])).toBe(8);
    expect(mapThroughDelta(5, [{ retain: 5 }, { insert: "abc" }])).toBe(5);
    expect(mapThroughDelta(5, [{ retain: 1 }, { delete: 2 }])).toBe(3);
    expect(mapThroughDelta(5, [{ retain: 3 }, { delete: 10 }])).toBe(3);
    expect(mapThroughDelta(2, [{ retain: 6 }, { insert: "zz" }])).toBe(2);
  });
});

describe("bindTextarea", () => {
  it("turns typing into minimal Y.Text changes and shows remote changes", () => {
    const doc = new Y.Doc();
    const text = doc.getText("body");
    text.insert(0, "remote start");
    const area = new FakeTextarea();
    const unbind = bindTextarea(area, text);
    expect(area.value).toBe("remote start");
    area.type(" and mine", area.value.length);
    expect(text.toString()).toBe("remote start and mine");
    area.deleteRange(0, 7);
    expect(text.toString()).toBe("start and mine");
    unbind();
    area.type("!");
    expect(text.toString()).toBe("start and mine");
  });

  it("merges concurrent edits of two devices: one at the start, one at the end; both keep every word", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getText("body").insert(0, "The shared note.");
    exchange(a, b);
    const areaA = new FakeTextarea();
    const areaB = new FakeTextarea();
    bindTextarea(areaA, a.getText("body"));
    bindTextarea(areaB, b.getText("body"));
    // Offline: A types at the start, B at the end.
    areaA.type("Alpha first. ", 0);
    areaB.type(" Bravo last.", areaB.value.length);
    exchange(a, b);
    const expected = "Alpha first. The shared note. Bravo last.";
    expect(a.getText("body").toString()).toBe(expected);
    expect(b.getText("body").toString()).toBe(expected);
    expect(areaA.value).toBe(expected);
    expect(areaB.value).toBe(expected);
  });

  it("keeps the caret and selection where the user was when text arrives before them", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getText("body").insert(0, "hello world");
    exchange(a, b);
    const area = new FakeTextarea();
    bindTextarea(area, b.getText("body"));
    area.setSelectionRange(6, 11); // "world" selected
    a.getText("body").insert(0, ">> ");
    a.getText("body").insert(a.getText("body").length, " <<");
    exchange(a, b);
    expect(area.value).toBe(">> hello world <<");
    expect(area.value.slice(area.selectionStart!, area.selectionEnd!)).toBe("world");
  });

  it("holds remote changes while an input method composes, then shows them without losing the word", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getText("body").insert(0, "note");
    exchange(a, b);
    const area = new FakeTextarea();
    bindTextarea(area, b.getText("body"));
    area.fire("compositionstart");
    area.type(" ka", 4);
    a.getText("body").insert(0, "A: ");
    exchange(a, b);
    expect(area.value).toBe("note ka"); // untouched while composing
    area.type("ta", 7);
    area.fire("compositionend");
    expect(area.value).toBe("A: note kata");
    expect(b.getText("body").toString()).toBe("A: note kata");
    expect(area.selectionEnd).toBe(area.value.length);
    exchange(a, b);
    expect(a.getText("body").toString()).toBe("A: note kata");
  });
});

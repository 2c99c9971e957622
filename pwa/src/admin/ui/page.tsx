/** A console view's frame: its one h1 (which takes focus after a navigation) and the document title. */

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { takeFocusRequest } from "../router";
import { s } from "../strings";

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · ${s.appName}`;
  }, [title]);
}

export function Page({ title, children, actions, lead, wide = true }: { title: string; children?: ComponentChildren; actions?: ComponentChildren; lead?: ComponentChildren; wide?: boolean }) {
  useTitle(title);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (takeFocusRequest()) heading.current?.focus();
  });
  return (
    <div class={wide ? "page page-wide" : "page"}>
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions && <div class="page-actions">{actions}</div>}
      </div>
      {lead && <p class="lead">{lead}</p>}
      {children}
    </div>
  );
}

/** Put focus somewhere sensible after the focused control went away (a deleted row): the element, else the heading. */
export function focusAfterRemoval(selector?: string): void {
  setTimeout(() => {
    const target = (selector && document.querySelector<HTMLElement>(selector)) || document.getElementById("page-title");
    target?.focus();
  }, 0);
}

/** A search box over a list, labelled by what it searches. */
export function SearchBox({ label, value, onValue }: { label: string; value: string; onValue: (value: string) => void }) {
  return (
    <div class="search">
      <label for="list-search" class="field-label">
        {label}
      </label>
      <input id="list-search" type="search" value={value} autoComplete="off" onInput={(event) => onValue(event.currentTarget.value)} />
    </div>
  );
}

/** Whether every word of the query occurs in one of the texts (case and accents ignored). */
export function matches(query: string, ...texts: (string | null | undefined)[]): boolean {
  const fold = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
  const haystack = fold(texts.filter(Boolean).join(" "));
  return fold(query)
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

/** A notice that something went wrong, announced when it appears. */
export function Problem({ children }: { children: ComponentChildren }) {
  return (
    <div class="error-summary" role="alert">
      {children}
    </div>
  );
}

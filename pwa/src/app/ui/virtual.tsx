/**
 * A long list that renders only what is on screen: a window of items around the viewport (the page
 * scrolls, not the list), with space above and below standing for the rest. Heights are estimated, then
 * measured once an item has been shown. Short lists are rendered whole: windowing them gains nothing, and
 * find-in-page and screen readers then see every item.
 */

import type { VNode } from "preact";
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

/** Lists up to this many estimated pixels are rendered whole. */
const WHOLE_BELOW_PX = 6_000;
/** Pixels rendered beyond each edge of the viewport, so a quick flick does not show blank space. */
const OVERSCAN_PX = 300;

export interface VirtualListProps<T> {
  items: readonly T[];
  keyOf: (item: T) => string;
  estimate: (item: T) => number;
  render: (item: T) => VNode;
  /** Scroll so that this item is at the top (after `offset` pixels) when the list first shows, and each time it changes. */
  scrollTo?: { key: string; seq: number } | null;
  /** Pixels kept clear at the top of the viewport (sticky bars). */
  offset?: number;
}

export function VirtualList<T>({ items, keyOf, estimate, render, scrollTo, offset = 0 }: VirtualListProps<T>) {
  const box = useRef<HTMLDivElement>(null);
  const measured = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  const [view, setView] = useState<[number, number]>([0, typeof window === "undefined" ? 1_000 : window.innerHeight]);

  const tops = useMemo(() => {
    const list = [0];
    for (const item of items) list.push(list[list.length - 1]! + (measured.current.get(keyOf(item)) ?? estimate(item)));
    return list;
    // `version` changes when measured heights do.
  }, [items, version]);
  const total = tops[tops.length - 1]!;
  const whole = total <= WHOLE_BELOW_PX;

  let first = 0;
  let last = items.length;
  if (!whole) {
    const [from, to] = view;
    while (first < items.length - 1 && tops[first + 1]! < from - OVERSCAN_PX) first += 1;
    last = first;
    while (last < items.length && tops[last]! < to + OVERSCAN_PX) last += 1;
  }

  // Follow the window's scrolling and size.
  useLayoutEffect(() => {
    if (whole) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const top = box.current?.getBoundingClientRect().top ?? 0;
      setView([-top, window.innerHeight - top]);
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    window.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", schedule);
    return () => {
      window.removeEventListener("scroll", schedule);
      window.removeEventListener("resize", schedule);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [whole]);

  // Measure what is shown; a changed height moves the items below it.
  useLayoutEffect(() => {
    const children = box.current?.children;
    if (!children) return;
    let changed = false;
    for (const child of Array.from(children)) {
      const key = (child as HTMLElement).dataset.key;
      if (!key) continue;
      const height = (child as HTMLElement).offsetHeight;
      if (height && measured.current.get(key) !== height) {
        measured.current.set(key, height);
        changed = true;
      }
    }
    if (changed && !whole) setVersion((v) => v + 1);
  });

  // Scroll an item to the top when asked.
  useLayoutEffect(() => {
    if (!scrollTo || !box.current) return;
    const index = items.findIndex((item) => keyOf(item) === scrollTo.key);
    if (index < 0) return;
    const scroll = () => {
      if (!box.current) return;
      // A shown item is where the page laid it out; one outside the window is where the estimates put it.
      const shown = box.current.querySelector<HTMLElement>(`[data-key="${CSS.escape(scrollTo.key)}"]`);
      const top = shown
        ? shown.getBoundingClientRect().top + window.scrollY
        : box.current.getBoundingClientRect().top + window.scrollY + tops[index]!;
      window.scrollTo({ top: Math.max(0, top - offset), behavior: "instant" });
    };
    scroll();
    const placed = window.scrollY;
    // Once more after the first paint, as the page may still have been growing (fonts, measured rows), unless
    // someone scrolled in between.
    const frame = requestAnimationFrame(() => {
      if (window.scrollY === placed) scroll();
    });
    return () => cancelAnimationFrame(frame);
  }, [scrollTo?.key, scrollTo?.seq]);

  const shown = items.slice(first, last);
  // A list for screen readers, which also hear how long it is and where each item stands when only a window
  // of it is in the page.
  return (
    <div
      ref={box}
      role="list"
      class="virtual-list"
      style={whole ? undefined : { paddingTop: `${tops[first]}px`, paddingBottom: `${total - tops[last]!}px` }}
    >
      {shown.map((item, index) => (
        <div
          key={keyOf(item)}
          data-key={keyOf(item)}
          role="listitem"
          aria-setsize={whole ? undefined : items.length}
          aria-posinset={whole ? undefined : first + index + 1}
          class="virtual-item"
        >
          {render(item)}
        </div>
      ))}
    </div>
  );
}

/**
 * A long list that renders only what is on screen: a window of items around the viewport (the page
 * scrolls, not the list), with space above and below standing for the rest. Heights are estimated, then
 * measured (by a ResizeObserver, never by forcing a layout) once an item has been shown. Short lists are
 * rendered whole: windowing them gains nothing, and find-in-page and screen readers then see every item.
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
  /** Items of different kinds render different elements: a place in the list is only reused by the same kind. */
  kindOf?: (item: T) => string;
  /** Scroll so that this item is at the top (after `offset` pixels) when the list first shows, and each time it changes. */
  scrollTo?: { key: string; seq: number } | null;
  /** Pixels kept clear at the top of the viewport (sticky bars). */
  offset?: number;
}

export function VirtualList<T>({ items, keyOf, kindOf, estimate, render, scrollTo, offset = 0 }: VirtualListProps<T>) {
  const box = useRef<HTMLDivElement>(null);
  const measured = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  /** Measured heights changed since the spacers were last worked out. */
  const stale = useRef(false);
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
      if (stale.current) {
        stale.current = false;
        setVersion((v) => v + 1);
      }
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

  // Measure what is shown without forcing a layout: a ResizeObserver hears the sizes the browser computes for
  // the frame anyway. The spacers follow once the browser is idle (or at the next scroll), so an update that
  // swaps the window's rows costs one layout, not two.
  const observer = useRef<ResizeObserver | null>(null);
  const settle = useRef(0);
  useLayoutEffect(() => {
    if (whole || typeof ResizeObserver === "undefined") return;
    const idle = window.requestIdleCallback ?? ((callback: () => void) => window.setTimeout(callback, 100));
    const cancel = window.cancelIdleCallback ?? window.clearTimeout;
    const resized = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const key = (entry.target as HTMLElement).dataset.key;
        const height = Math.round(entry.borderBoxSize?.[0]?.blockSize ?? entry.contentRect.height);
        if (key && height && measured.current.get(key) !== height) {
          measured.current.set(key, height);
          stale.current = true;
        }
      }
      if (stale.current && !settle.current) {
        settle.current = idle(
          () => {
            settle.current = 0;
            if (stale.current) {
              stale.current = false;
              setVersion((v) => v + 1);
            }
          },
          { timeout: 500 },
        );
      }
    });
    observer.current = resized;
    return () => {
      resized.disconnect();
      observer.current = null;
      if (settle.current) cancel(settle.current);
      settle.current = 0;
    };
  }, [whole]);
  useLayoutEffect(() => {
    const resized = observer.current;
    const children = box.current?.children;
    if (!resized || !children) return;
    // Only the rows in the page are watched (rows that left it are let go).
    resized.disconnect();
    for (const child of Array.from(children)) resized.observe(child);
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
          // Keyed by place in the list, so a new day or search result reuses the elements already there (their
          // text and links change) instead of removing every row and building new ones.
          key={`${kindOf?.(item) ?? ""}${first + index}`}
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

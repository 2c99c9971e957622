/** The moment the views show: now, or the moment `?at=` names (rehearsals and screenshots). */

import { computed, signal } from "@preact/signals";

import { query } from "../router";
import { now } from "../store";

/** `?at=2024-07-23T09:00:00%2B08:00` shows the app as at that moment. */
export const appNow = computed(() => {
  const at = query.value.get("at");
  const parsed = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(parsed) ? now.value : parsed;
});

function mediaSignal(query: string) {
  const list = typeof matchMedia === "function" ? matchMedia(query) : null;
  const value = signal(list?.matches ?? false);
  list?.addEventListener("change", (event) => (value.value = event.matches));
  return value;
}

/** Room for the room × time grid: tablets, desktops and phones held sideways. */
export const gridFits = mediaSignal("(min-width: 37.5rem)");
/** Wide enough that the grid is the programme's first view. */
export const gridFirst = mediaSignal("(min-width: 64rem)");

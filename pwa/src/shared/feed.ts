/**
 * The programme feed on the client: the same collection order as `sync/feed.py` and applying
 * change records to a programme, so a phone that catches up holds exactly the server's newer snapshot.
 */

import { COLLECTIONS, type Change, type CollectionKind, type Programme } from "./types";

type Entity = { id: string } & Record<string, unknown>;
type SortKey = (number | string)[];

const NAIVE_ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$/i;

/**
 * The instant of an ISO 8601 moment in milliseconds; a moment without an offset counts as UTC and
 * anything unreadable as 0, as in the server.
 */
export function instant(value: unknown): number {
  if (typeof value !== "string" || !ISO.test(value)) return 0;
  const text = NAIVE_ISO.test(value) && value.includes("T") ? `${value}Z` : value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Python's `str.casefold` for the letters where it differs from lower-casing. */
export function casefold(text: string): string {
  return text.toLowerCase().replace(/ß/g, "ss").replace(/ς/g, "σ");
}

/** Compare strings by code point, as Python does (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = Array.from(a);
  const right = Array.from(b);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const x = left[i]!.codePointAt(0)!;
    const y = right[i]!.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length < 0 ? -1 : left.length === right.length ? 0 : 1;
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const order = typeof x === "number" && typeof y === "number" ? x - y : compareCodePoints(String(x), String(y));
    if (order !== 0) return order < 0 ? -1 : 1;
  }
  return a.length - b.length;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

const byPosition = (item: Entity): SortKey => [
  numberOr(item["position"], 0),
  casefold(String(item["name"] ?? "")),
  item.id,
];
const byName = (item: Entity): SortKey => [casefold(String(item["name"] ?? "")), item.id];
const byTime = (item: Entity): SortKey => [instant(item["start"]), instant(item["end"]), item.id];
/** Announcements are not in the server's feed yet: newest first, then by id. */
const byNewest = (item: Entity): SortKey => [-instant(item["publishedAt"] ?? item["createdAt"]), item.id];

const SORT_KEYS: Record<CollectionKind, (item: Entity) => SortKey> = {
  room: byPosition,
  track: byPosition,
  format: byPosition,
  speaker: byName,
  session: byTime,
  announcement: byNewest,
};

export function isCollectionKind(kind: string): kind is CollectionKind {
  return Object.hasOwn(COLLECTIONS, kind);
}

/**
 * Order a collection as snapshots order it: rooms, tracks and formats by position then name;
 * speakers by name; sessions by start instant, end instant and id. Ties end on the id.
 */
export function sortCollection<T extends { id: string }>(kind: CollectionKind, items: Iterable<T>): T[] {
  const key = SORT_KEYS[kind];
  return Array.from(items)
    .map((item) => ({ item, key: key(item as unknown as Entity) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ item }) => item);
}

/** A programme with every collection present and ordered (a snapshot may lack `announcements`). */
export function normaliseProgramme(raw: Partial<Programme> & { cursor: string }): Programme {
  const programme = { ...raw, event: raw.event ?? null } as Programme;
  for (const [kind, key] of Object.entries(COLLECTIONS) as [CollectionKind, keyof Programme][]) {
    const items = (raw[key] as { id: string }[] | undefined) ?? [];
    (programme as unknown as Record<string, unknown>)[key] = sortCollection(kind, items);
  }
  return programme;
}

/**
 * Apply change records to a programme and return the new one; the input is not modified.
 *
 * Records of kinds this app does not know are skipped, so an older app keeps working against a
 * newer server.
 *
 * @throws Error An upsert without data.
 */
export function applyChanges(programme: Programme, changes: Iterable<Change>, cursor: string): Programme {
  let event = programme.event;
  const collections = new Map<CollectionKind, Map<string, { id: string }>>();
  for (const [kind, key] of Object.entries(COLLECTIONS) as [CollectionKind, keyof Programme][]) {
    const items = (programme[key] as { id: string }[] | undefined) ?? [];
    collections.set(kind, new Map(items.map((item) => [item.id, item])));
  }
  for (const change of changes) {
    if (!change.deleted && change.data == null) {
      throw new Error(`upsert of ${change.type} ${JSON.stringify(change.id)} carries no data`);
    }
    if (change.type === "event") {
      event = change.deleted ? null : (change.data as unknown as Programme["event"]);
      continue;
    }
    if (!isCollectionKind(change.type)) continue;
    const target = collections.get(change.type)!;
    if (change.deleted) target.delete(change.id);
    else target.set(change.id, change.data as unknown as { id: string });
  }
  const result: Record<string, unknown> = { ...programme, cursor, event };
  for (const [kind, key] of Object.entries(COLLECTIONS) as [CollectionKind, string][]) {
    result[key] = sortCollection(kind, collections.get(kind)!.values());
  }
  return result as unknown as Programme;
}

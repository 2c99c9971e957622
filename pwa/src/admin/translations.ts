/**
 * Translated content in the console (the programme, the Info pages): which fields of which kinds translate (the
 * one registry on the console's side, mirroring `server/services/translations.py`), the server's list of missing
 * and stale translations, and saving an entity's translations.
 */

import { signal } from "@preact/signals";

import { ApiError, get, patch, put } from "./api";
import { refresh } from "./programme";
import type { Programme } from "../shared/types";

/** Kind → its translatable fields. A new kind plugs in with one line here (and one on the server). */
export const TRANSLATABLE = {
  event: ["name", "description"],
  room: ["name", "accessibility"],
  track: ["name", "description"],
  format: ["name"],
  speaker: ["role", "bio"],
  session: ["title", "subtitle", "abstract", "description"],
  page: ["title", "body"],
} as const satisfies Record<string, readonly string[]>;

export type TranslatableKind = keyof typeof TRANSLATABLE;

/** Fields written as paragraphs (a text area); the others are one line. */
export const LONG_FIELDS: ReadonlySet<string> = new Set(["description", "abstract", "bio", "accessibility", "body"]);

export function isTranslatableKind(value: string | undefined): value is TranslatableKind {
  return value !== undefined && Object.hasOwn(TRANSLATABLE, value);
}

export interface TranslationGap {
  kind: TranslatableKind;
  id: string;
  label: string;
  lang: string;
  field: string;
  state: "missing" | "stale";
}

export interface TranslationStatus {
  source: string;
  languages: { lang: string; missing: number; stale: number }[];
  total: number;
  gaps: TranslationGap[];
}

/** Counts per language (every gap, unfiltered), for the navigation; null until read. */
export const translationCounts = signal<TranslationStatus["languages"] | null>(null);

export async function loadTranslationStatus(filters: { lang?: string; state?: string; kind?: string } = {}): Promise<TranslationStatus> {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value) as [string, string][]);
  const text = query.toString();
  const status = await get<TranslationStatus>(`/api/admin/translations${text ? `?${text}` : ""}`);
  translationCounts.value = status.languages;
  return status;
}

/** Read the counts again (after a programme change); they are advice, so a failure leaves the old ones. */
export async function refreshTranslationCounts(): Promise<void> {
  try {
    await loadTranslationStatus({ state: "stale" });
  } catch (error) {
    if (!(error instanceof ApiError)) console.warn("Kumpul could not read the translation counts", error);
  }
}

type Entity = Record<string, unknown> & { translations?: Record<string, Record<string, unknown> | undefined> };

/** The Info pages as `/api/info-pages` serves them (they are not part of the programme); null until read. */
export const infoPages = signal<Entity[] | null>(null);

/** Read the Info pages again (after one of them or its translations changed). */
export async function loadInfoPages(): Promise<void> {
  infoPages.value = await get<Entity[]>("/api/info-pages");
}

/** Kinds kept outside the programme: their entities come from elsewhere and are saved at their own address. */
const OUTSIDE_PROGRAMME: Partial<Record<TranslatableKind, { list: () => Entity[] | null; path: (id: string) => string; reload: () => Promise<void> }>> = {
  page: { list: () => infoPages.value, path: (id) => `/api/admin/info-pages/${encodeURIComponent(id)}`, reload: loadInfoPages },
};

/** Whether the entities of `kind` are kept outside the programme: read them (`loadKind`) before `entityOf`. */
export function outsideProgramme(kind: TranslatableKind): boolean {
  return OUTSIDE_PROGRAMME[kind] !== undefined;
}

/** Read the entities of a kind kept outside the programme (nothing to do for the programme's own). */
export async function loadKind(kind: TranslatableKind): Promise<void> {
  await OUTSIDE_PROGRAMME[kind]?.reload();
}

/** The entity of a kind and id in the programme (the event has the id "event"), or an Info page. */
export function entityOf(data: Programme, kind: TranslatableKind, id: string): Entity | null {
  const outside = OUTSIDE_PROGRAMME[kind];
  if (outside) return outside.list()?.find((item) => item["id"] === id) ?? null;
  if (kind === "event") return (data.event as unknown as Entity | null) ?? null;
  const list = data[`${kind}s` as "sessions" | "speakers" | "rooms" | "tracks" | "formats"] as unknown as Entity[];
  return list.find((item) => item["id"] === id) ?? null;
}

/** Texts by language and field, as the editor holds them. */
export type TranslationDraft = Record<string, Record<string, string>>;

/** Save `draft` as the entity's translations; languages the draft lacks stay as stored. */
export async function saveTranslations(kind: TranslatableKind, entity: Entity, draft: TranslationDraft): Promise<void> {
  const translations: Record<string, Record<string, string>> = {};
  for (const [lang, stored] of Object.entries(entity.translations ?? {})) {
    const kept: Record<string, string> = {};
    for (const [field, value] of Object.entries(stored ?? {})) if (field !== "stale" && typeof value === "string" && value) kept[field] = value;
    translations[lang] = kept;
  }
  for (const [lang, fields] of Object.entries(draft)) {
    const texts: Record<string, string> = { ...translations[lang] };
    for (const [field, value] of Object.entries(fields)) {
      if (value.trim()) texts[field] = value;
      else delete texts[field];
    }
    if (Object.keys(texts).length) translations[lang] = texts;
    else delete translations[lang];
  }
  const outside = OUTSIDE_PROGRAMME[kind];
  if (outside) {
    await patch(outside.path(String(entity["id"])), { translations });
    await outside.reload();
    await refreshTranslationCounts();
    return;
  }
  if (kind === "event") {
    const { translations: _old, ...rest } = entity;
    await put("/api/admin/event", { ...rest, translations });
  } else {
    await patch(`/api/admin/${kind}s/${encodeURIComponent(String(entity["id"]))}`, { translations });
  }
  await refresh();
}

/**
 * The programme as the API sends it (camelCase JSON of `server/schemas/programme.py`).
 *
 * Fields the server may add later are kept as they come: an old app must read a newer feed.
 */

/** Translations by language; `stale` lists the fields whose source text changed since they were translated. */
export type Translations<T> = Record<string, (Partial<T> & { stale?: string[] }) | undefined>;
/** What the app shows for a stale translation: it, marked as possibly out of date, or the original. */
export type StalePolicy = "mark" | "original";

export interface EventInfo {
  name: string;
  timeZone: string;
  startDate: string;
  endDate: string;
  acronym?: string;
  venueName?: string;
  venueAddress?: string;
  language?: string;
  languages?: string[];
  description?: string;
  url?: string | null;
  translations?: Translations<{ name: string; description: string }>;
  staleTranslations?: StalePolicy;
}

export interface Room {
  id: string;
  name: string;
  floor?: string;
  capacity?: number | null;
  accessibility?: string;
  streamUrl?: string | null;
  position?: number;
  translations?: Translations<{ name: string; accessibility: string }>;
}

export interface Track {
  id: string;
  name: string;
  colour?: string;
  description?: string;
  position?: number;
  translations?: Translations<{ name: string; description: string }>;
}

export interface Format {
  id: string;
  name: string;
  position?: number;
  translations?: Translations<{ name: string }>;
}

export interface Link {
  title: string;
  url: string;
}

export interface Speaker {
  id: string;
  name: string;
  anonymous?: boolean;
  pronouns?: string;
  bio?: string;
  organisation?: string;
  role?: string;
  country?: string;
  photoUrl?: string | null;
  links?: Link[];
  translations?: Translations<{ role: string; bio: string }>;
}

export type Recording = "public" | "no-recording" | "off-the-record";

export interface Session {
  id: string;
  title: string;
  start: string;
  end: string;
  roomId: string;
  format: string;
  guid?: string;
  subtitle?: string;
  abstract?: string;
  description?: string;
  trackId?: string | null;
  languages?: string[];
  speakerIds?: string[];
  streamUrl?: string | null;
  interpretation?: Record<string, string>;
  recording?: Recording;
  capacity?: number | null;
  tags?: string[];
  status?: "scheduled" | "cancelled";
  translations?: Translations<{ title: string; subtitle: string; abstract: string; description: string }>;
  /** Pages about the session (slides, a recording, a paper), and attached files. */
  links?: { title: string; url: string }[];
  attachments?: { title: string; url: string }[];
}

/** An organisers' announcement (`server/schemas/announcements.py`); the body is plain text, never HTML. */
export interface Announcement {
  id: string;
  title?: string;
  body?: string;
  urgent?: boolean;
  /** "normal" | "urgent" */
  priority?: string;
  /** "everyone" | "onsite" | "online" | "session" (those who bookmarked `sessionId`) */
  audience?: string;
  sessionId?: string | null;
  publishedAt?: string;
  updatedAt?: string;
  expiresAt?: string | null;
  createdAt?: string;
  translations?: Translations<{ title: string; body: string }>;
}

export interface Programme {
  cursor: string;
  event: EventInfo | null;
  rooms: Room[];
  tracks: Track[];
  formats: Format[];
  speakers: Speaker[];
  sessions: Session[];
  announcements: Announcement[];
}

/** The entity kinds that live in a collection, and the programme key of each. */
export const COLLECTIONS = {
  room: "rooms",
  track: "tracks",
  format: "formats",
  speaker: "speakers",
  session: "sessions",
  announcement: "announcements",
} as const;

export type CollectionKind = keyof typeof COLLECTIONS;
export type CollectionKey = (typeof COLLECTIONS)[CollectionKind];

/** One record of `GET /api/changes`: an upsert (with `data`) or a tombstone (`deleted`). */
export interface Change {
  type: string;
  id: string;
  seq: number;
  deleted?: boolean;
  data?: Record<string, unknown> | null;
}

export interface ChangesPage {
  changes: Change[];
  cursor: string;
  more: boolean;
}

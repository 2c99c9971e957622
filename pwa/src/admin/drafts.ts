/**
 * Form drafts of programme entities: the strings a form edits, made from an entity and turned back
 * into the JSON the admin API takes. Pure, so the conversions are tested without a browser.
 */

import type { Link, Recording, Room, Session, Speaker, Track } from "../shared/types";
import { s } from "./strings";
import { fromLocalInput, toLocalInput } from "./zone";

export interface SessionDraft {
  title: string;
  subtitle: string;
  abstract: string;
  /** `datetime-local` values on the event's wall clock. */
  start: string;
  end: string;
  roomId: string;
  /** "" for no track. */
  trackId: string;
  format: string;
  languages: string[];
  speakerIds: string[];
  streamUrl: string;
  recording: Recording;
  /** A whole number or "". */
  capacity: string;
  status: "scheduled" | "cancelled";
  /** Pages and files about the session, in the order the session page lists them. */
  links: Link[];
  attachments: Link[];
}

/** The session form's fields, in the order they appear (the first invalid one takes focus). */
export const SESSION_FIELDS = [
  "title",
  "subtitle",
  "abstract",
  "start",
  "end",
  "roomId",
  "trackId",
  "format",
  "languages",
  "speakerIds",
  "streamUrl",
  "recording",
  "capacity",
  "status",
  "links",
  "attachments",
] as const;

export function sessionDraft(session: Session | null, zone: string, defaults: { roomId?: string; format?: string; day?: string } = {}): SessionDraft {
  const day = defaults.day ?? "";
  return {
    title: session?.title ?? "",
    subtitle: session?.subtitle ?? "",
    abstract: session?.abstract ?? "",
    start: session ? toLocalInput(session.start, zone) : day ? `${day}T09:00` : "",
    end: session ? toLocalInput(session.end, zone) : day ? `${day}T10:00` : "",
    roomId: session?.roomId ?? defaults.roomId ?? "",
    trackId: session?.trackId ?? "",
    format: session?.format ?? defaults.format ?? "",
    languages: [...(session?.languages ?? [])],
    speakerIds: [...(session?.speakerIds ?? [])],
    streamUrl: session?.streamUrl ?? "",
    recording: session?.recording ?? "public",
    capacity: session?.capacity === null || session?.capacity === undefined ? "" : String(session.capacity),
    status: session?.status ?? "scheduled",
    links: (session?.links ?? []).map((link) => ({ ...link })),
    attachments: (session?.attachments ?? []).map((link) => ({ ...link })),
  };
}

/**
 * Links as the API takes them: trimmed, empty rows dropped; a row without a title or address, or
 * with an address that is not https (a `javascript:` address, a plain http one), is a problem.
 */
export function materials(items: Link[]): { value: Link[]; error?: string } {
  const value = items.map((item) => ({ title: item.title.trim(), url: item.url.trim() })).filter((item) => item.title || item.url);
  if (value.some((item) => !item.title || !item.url)) return { value, error: s.materialsIncomplete };
  if (value.some((item) => !/^https:\/\/[^\s]+$/i.test(item.url))) return { value, error: s.materialsHttpsOnly };
  return { value };
}

export interface Built {
  /** The JSON to send (every field of the form). */
  body: Record<string, unknown>;
  /** Problems found before sending (a time that is not a time, a capacity that is not a number). */
  errors: Record<string, string>;
}

function wholeNumber(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (!trimmed) return null;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The session JSON of a draft, with the times as ISO 8601 in the event's zone. */
export function sessionBody(draft: SessionDraft, zone: string): Built {
  const errors: Record<string, string> = {};
  const start = fromLocalInput(draft.start, zone);
  const end = fromLocalInput(draft.end, zone);
  if (!draft.title.trim()) errors["title"] = "Enter a title.";
  if (!start) errors["start"] = draft.start ? "Enter a valid date and time." : "Enter the start date and time.";
  if (!end) errors["end"] = draft.end ? "Enter a valid date and time." : "Enter the end date and time.";
  if (!draft.roomId) errors["roomId"] = "Choose a room.";
  if (!draft.format) errors["format"] = "Choose a format.";
  const capacity = wholeNumber(draft.capacity);
  if (capacity === undefined) errors["capacity"] = "Enter a whole number of seats, or leave it empty.";
  const links = materials(draft.links);
  const attachments = materials(draft.attachments);
  if (links.error) errors["links"] = links.error;
  if (attachments.error) errors["attachments"] = attachments.error;
  return {
    body: {
      title: draft.title.trim(),
      subtitle: draft.subtitle.trim(),
      abstract: draft.abstract.trim(),
      start,
      end,
      roomId: draft.roomId,
      trackId: draft.trackId || null,
      format: draft.format,
      languages: draft.languages,
      speakerIds: draft.speakerIds,
      streamUrl: draft.streamUrl.trim() || null,
      recording: draft.recording,
      capacity: capacity ?? null,
      status: draft.status,
      links: links.value,
      attachments: attachments.value,
    },
    errors,
  };
}

function same(key: string, before: unknown, after: unknown): boolean {
  if ((key === "start" || key === "end") && typeof before === "string" && typeof after === "string") {
    return Date.parse(before) === Date.parse(after);
  }
  const normal = (value: unknown) => (value === undefined ? null : value);
  return JSON.stringify(normal(before)) === JSON.stringify(normal(after));
}

/**
 * Only the fields that differ from the stored entity: a PATCH that leaves alone what another
 * organiser may have changed meanwhile. Fields the entity leaves out count as their defaults.
 */
export function changedFields(stored: object, body: Record<string, unknown>, defaults: Record<string, unknown> = {}): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const record = stored as Record<string, unknown>;
  for (const [key, value] of Object.entries(body)) {
    const before = key in record ? record[key] : defaults[key];
    if (!same(key, before, value)) changes[key] = value;
  }
  return changes;
}

/** What the server stores when a session leaves a field out. */
export const SESSION_DEFAULTS: Record<string, unknown> = {
  subtitle: "",
  abstract: "",
  trackId: null,
  languages: [],
  speakerIds: [],
  streamUrl: null,
  recording: "public",
  capacity: null,
  status: "scheduled",
  links: [],
  attachments: [],
};

// --- speakers ----------------------------------------------------------------------------------

export interface SpeakerDraft {
  name: string;
  anonymous: boolean;
  pronouns: string;
  bio: string;
  organisation: string;
  role: string;
  country: string;
  photoUrl: string;
  links: Link[];
}

export const SPEAKER_FIELDS = ["name", "anonymous", "pronouns", "bio", "organisation", "role", "country", "photoUrl", "links"] as const;
/** What an anonymous speaker never has (`server/services/programme.py` ANONYMOUS_HIDDEN). */
export const ANONYMOUS_HIDDEN = ["organisation", "role", "country", "photoUrl", "links"] as const;

export function speakerDraft(speaker: Speaker | null): SpeakerDraft {
  return {
    name: speaker?.name ?? "",
    anonymous: speaker?.anonymous ?? false,
    pronouns: speaker?.pronouns ?? "",
    bio: speaker?.bio ?? "",
    organisation: speaker?.organisation ?? "",
    role: speaker?.role ?? "",
    country: speaker?.country ?? "",
    photoUrl: speaker?.photoUrl ?? "",
    links: (speaker?.links ?? []).map((link) => ({ ...link })),
  };
}

/** The speaker JSON; an anonymous speaker's hidden fields are sent empty (the server erases them). */
export function speakerBody(draft: SpeakerDraft): Built {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors["name"] = draft.anonymous ? "Enter a pseudonym." : "Enter a name.";
  const links = draft.links.map((link) => ({ title: link.title.trim(), url: link.url.trim() })).filter((link) => link.title || link.url);
  if (!draft.anonymous && links.some((link) => !link.title || !link.url)) errors["links"] = "Every link needs a title and an address.";
  const common = { name: draft.name.trim(), anonymous: draft.anonymous, pronouns: draft.pronouns.trim(), bio: draft.bio.trim() };
  if (draft.anonymous) return { body: { ...common, organisation: "", role: "", country: "", photoUrl: null, links: [] }, errors };
  return {
    body: {
      ...common,
      organisation: draft.organisation.trim(),
      role: draft.role.trim(),
      country: draft.country.trim(),
      photoUrl: draft.photoUrl.trim() || null,
      links,
    },
    errors,
  };
}

export const SPEAKER_DEFAULTS: Record<string, unknown> = {
  anonymous: false,
  pronouns: "",
  bio: "",
  organisation: "",
  role: "",
  country: "",
  photoUrl: null,
  links: [],
};

/** Whether a speaker holds anything that becoming anonymous erases. */
export function holdsIdentifyingFields(speaker: Speaker | null): boolean {
  if (!speaker) return false;
  return Boolean(speaker.organisation || speaker.role || speaker.country || speaker.photoUrl || speaker.links?.length);
}

// --- rooms and tracks --------------------------------------------------------------------------

export interface RoomDraft {
  name: string;
  floor: string;
  capacity: string;
  accessibility: string;
  streamUrl: string;
  position: string;
}

export const ROOM_FIELDS = ["name", "floor", "capacity", "accessibility", "streamUrl", "position"] as const;
export const ROOM_DEFAULTS: Record<string, unknown> = { floor: "", capacity: null, accessibility: "", streamUrl: null, position: 0 };

export function roomDraft(room: Room | null): RoomDraft {
  return {
    name: room?.name ?? "",
    floor: room?.floor ?? "",
    capacity: room?.capacity === null || room?.capacity === undefined ? "" : String(room.capacity),
    accessibility: room?.accessibility ?? "",
    streamUrl: room?.streamUrl ?? "",
    position: String(room?.position ?? 0),
  };
}

function integer(text: string): number | undefined {
  const trimmed = text.trim() || "0";
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

export function roomBody(draft: RoomDraft): Built {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors["name"] = "Enter a name.";
  const capacity = wholeNumber(draft.capacity);
  if (capacity === undefined) errors["capacity"] = "Enter a whole number of seats, or leave it empty.";
  const position = integer(draft.position);
  if (position === undefined) errors["position"] = "Enter a whole number.";
  return {
    body: {
      name: draft.name.trim(),
      floor: draft.floor.trim(),
      capacity: capacity ?? null,
      accessibility: draft.accessibility.trim(),
      streamUrl: draft.streamUrl.trim() || null,
      position: position ?? 0,
    },
    errors,
  };
}

export interface TrackDraft {
  name: string;
  colour: string;
  description: string;
  position: string;
}

export const TRACK_FIELDS = ["name", "colour", "description", "position"] as const;
export const TRACK_DEFAULTS: Record<string, unknown> = { colour: "#5b6770", description: "", position: 0 };

export function trackDraft(track: Track | null): TrackDraft {
  return {
    name: track?.name ?? "",
    colour: track?.colour ?? "#5b6770",
    description: track?.description ?? "",
    position: String(track?.position ?? 0),
  };
}

export function trackBody(draft: TrackDraft): Built {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors["name"] = "Enter a name.";
  const position = integer(draft.position);
  if (position === undefined) errors["position"] = "Enter a whole number.";
  if (!/^#[0-9a-fA-F]{6}$/.test(draft.colour)) errors["colour"] = "Choose a colour.";
  return { body: { name: draft.name.trim(), colour: draft.colour, description: draft.description.trim(), position: position ?? 0 }, errors };
}

/** Small programmes for the tests, and the demo conference the server ships. */

import { readFileSync } from "node:fs";

import type { Programme, Session } from "../src/shared/types";

export function session(id: string, start: string, end: string, extra: Partial<Session> = {}): Session {
  return { id, title: `Session ${id}`, start, end, roomId: "room-a", format: "talk", ...extra };
}

export function smallProgramme(cursor = "aaaaaaaaaaaa.10"): Programme {
  return {
    cursor,
    event: {
      name: "Test Conference",
      timeZone: "Asia/Makassar",
      startDate: "2024-07-23",
      endDate: "2024-07-24",
    },
    rooms: [
      { id: "room-b", name: "Hall B", position: 1 },
      { id: "room-a", name: "Hall A", position: 0 },
    ],
    tracks: [{ id: "track-1", name: "Research", colour: "#1f5f8b" }],
    formats: [{ id: "talk", name: "Talk" }],
    speakers: [
      { id: "spk-b", name: "Budi Hartanto" },
      { id: "spk-a", name: "Ayu Pratiwi" },
    ],
    sessions: [
      session("late", "2024-07-23T11:00:00+08:00", "2024-07-23T12:00:00+08:00"),
      session("early", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00", { speakerIds: ["spk-a"] }),
    ],
    announcements: [],
  };
}

/** The demo conference (ARAT 2024) as `GET /api/programme` serves it. */
export function demoProgramme(): Programme {
  const text = readFileSync(new URL("../../server/demo/arat2024.json", import.meta.url), "utf8");
  return { cursor: "0123456789ab.1", announcements: [], ...(JSON.parse(text) as Omit<Programme, "cursor" | "announcements">) };
}

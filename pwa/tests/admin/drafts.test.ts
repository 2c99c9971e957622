import { describe, expect, it } from "vitest";

import type { Session, Speaker } from "../../src/shared/types";
import { changedFields, roomBody, SESSION_DEFAULTS, sessionBody, sessionDraft, speakerBody, speakerDraft, trackBody, trackDraft } from "../../src/admin/drafts";

const session: Session = {
  id: "d1-opening",
  title: "Opening plenary",
  start: "2024-07-23T09:00:00+08:00",
  end: "2024-07-23T10:30:00+08:00",
  roomId: "hall-a",
  format: "plenary",
  trackId: null,
  languages: ["en", "id"],
  speakerIds: ["ana", "budi"],
  streamUrl: "https://stream.example/a",
  recording: "public",
  capacity: null,
  status: "scheduled",
  tags: ["opening"],
};

describe("the session form", () => {
  it("sends links and attachments in the order edited, leaves them out when untouched, and refuses addresses that are not https", () => {
    const stored: Session = { ...session, links: [{ title: "Paper", url: "https://papers.example/p.pdf" }], attachments: [] };
    const draft = sessionDraft(stored, "Asia/Makassar");
    expect(changedFields(stored, sessionBody(draft, "Asia/Makassar").body, SESSION_DEFAULTS)).toEqual({});
    draft.links = [{ title: " Recording ", url: "https://media.example/v/1" }, ...draft.links, { title: "", url: "" }];
    draft.attachments = [{ title: "Slides", url: "https://media.example/s.pdf" }];
    const built = sessionBody(draft, "Asia/Makassar");
    expect(built.errors).toEqual({});
    expect(changedFields(stored, built.body, SESSION_DEFAULTS)).toEqual({
      links: [
        { title: "Recording", url: "https://media.example/v/1" },
        { title: "Paper", url: "https://papers.example/p.pdf" },
      ],
      attachments: [{ title: "Slides", url: "https://media.example/s.pdf" }],
    });
    for (const url of ["javascript:alert(1)", "http://plain.example/", "data:text/html,x"]) {
      expect(sessionBody({ ...draft, attachments: [{ title: "Slides", url }] }, "Asia/Makassar").errors["attachments"]).toMatch(/https:\/\//);
    }
    expect(sessionBody({ ...draft, links: [{ title: "", url: "https://a.example/" }] }, "Asia/Makassar").errors["links"]).toMatch(/title/);
  });

  it("shows stored times on the event's wall clock and sends them back with the zone's offset", () => {
    const draft = sessionDraft(session, "Asia/Makassar");
    expect(draft.start).toBe("2024-07-23T09:00");
    expect(draft.end).toBe("2024-07-23T10:30");
    const built = sessionBody(draft, "Asia/Makassar");
    expect(built.errors).toEqual({});
    expect(built.body["start"]).toBe("2024-07-23T09:00:00+08:00");
    expect(built.body["trackId"]).toBeNull();
    expect(built.body["capacity"]).toBeNull();
  });

  it("sends only what changed, comparing times as instants", () => {
    const draft = { ...sessionDraft(session, "Asia/Makassar"), roomId: "hall-b" };
    expect(changedFields(session, sessionBody(draft, "Asia/Makassar").body, SESSION_DEFAULTS)).toEqual({ roomId: "hall-b" });
    const utc = { ...session, start: "2024-07-23T01:00:00Z" };
    expect(changedFields(utc, sessionBody(sessionDraft(utc, "Asia/Makassar"), "Asia/Makassar").body, SESSION_DEFAULTS)).toEqual({});
  });

  it("treats fields the server left out as their defaults", () => {
    const sparse: Session = { id: "x", title: "T", start: session.start, end: session.end, roomId: "hall-a", format: "panel" };
    expect(changedFields(sparse, sessionBody(sessionDraft(sparse, "Asia/Makassar"), "Asia/Makassar").body, SESSION_DEFAULTS)).toEqual({});
  });

  it("catches what cannot be sent before sending", () => {
    const draft = { ...sessionDraft(null, "Asia/Makassar"), title: " ", capacity: "many" };
    const built = sessionBody(draft, "Asia/Makassar");
    expect(Object.keys(built.errors).sort()).toEqual(["capacity", "end", "format", "roomId", "start", "title"]);
  });

  it("starts a new session on the first day of the event", () => {
    const draft = sessionDraft(null, "Asia/Makassar", { day: "2024-07-23", roomId: "hall-a", format: "panel" });
    expect([draft.start, draft.end, draft.roomId, draft.format]).toEqual(["2024-07-23T09:00", "2024-07-23T10:00", "hall-a", "panel"]);
  });
});

describe("the speaker form", () => {
  const named: Speaker = { id: "ana", name: "Ana", organisation: "NGO", role: "Lawyer", country: "PH", photoUrl: "/p/ana.jpg", links: [{ title: "Site", url: "https://ana.example" }] };

  it("sends an anonymous speaker without anything identifying", () => {
    const built = speakerBody({ ...speakerDraft(named), anonymous: true, name: "Mawar" });
    expect(built.body).toEqual({ name: "Mawar", anonymous: true, pronouns: "", bio: "", organisation: "", role: "", country: "", photoUrl: null, links: [] });
  });

  it("drops empty link rows and asks for both parts of a half-filled one", () => {
    const draft = { ...speakerDraft(named), links: [{ title: "", url: "" }, { title: "Blog", url: "" }] };
    expect(speakerBody(draft).errors).toEqual({ links: "Every link needs a title and an address." });
    expect(speakerBody({ ...draft, links: [{ title: "", url: "" }] }).body["links"]).toEqual([]);
  });
});

describe("room and track forms", () => {
  it("reads numbers and refuses what is not one", () => {
    expect(roomBody({ name: "Hall", floor: "", capacity: "120", accessibility: "", streamUrl: "", position: "" }).body).toMatchObject({ capacity: 120, position: 0, streamUrl: null });
    expect(roomBody({ name: "Hall", floor: "", capacity: "-3", accessibility: "", streamUrl: "", position: "x" }).errors).toEqual({
      capacity: "Enter a whole number of seats, or leave it empty.",
      position: "Enter a whole number.",
    });
    expect(trackBody({ ...trackDraft(null), name: "Law" }).body).toEqual({ name: "Law", colour: "#5b6770", description: "", position: 0 });
  });
});

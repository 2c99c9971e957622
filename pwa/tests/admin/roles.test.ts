import { describe, expect, it } from "vitest";

import { areasFor, may } from "../../src/admin/roles";
import { areaOf, parseRoute } from "../../src/admin/router";

describe("what each role is offered", () => {
  it("gives editors the programme, import, the source of record and history; announcers announcements and history; admins all", () => {
    expect(areasFor("editor")).toEqual(["programme", "import", "source", "feedback", "history"]);
    expect(areasFor("announcer")).toEqual(["announcements", "history"]);
    expect(areasFor("admin")).toEqual(["programme", "import", "source", "announcements", "room-status", "feedback", "history", "organisers"]);
    expect(areasFor("volunteer")).toEqual(["room-status"]);
    expect(may("volunteer", "history")).toBe(false);
    expect(may("announcer", "source")).toBe(false);
    expect(may("announcer", "programme")).toBe(false);
    expect(may("editor", "announcements")).toBe(false);
    expect(may("editor", "organisers")).toBe(false);
    expect(areasFor("someone")).toEqual(["history"]);
  });
});

describe("console routes", () => {
  it("parses paths under /admin", () => {
    expect(parseRoute("/admin")).toEqual({ name: "home" });
    expect(parseRoute("/admin/")).toEqual({ name: "home" });
    expect(parseRoute("/admin/sessions")).toEqual({ name: "list", kind: "sessions" });
    expect(parseRoute("/admin/sessions/new")).toEqual({ name: "edit", kind: "sessions", id: null });
    expect(parseRoute("/admin/speakers/ana%20b")).toEqual({ name: "edit", kind: "speakers", id: "ana b" });
    expect(parseRoute("/admin/announcements")).toEqual({ name: "announcements" });
    expect(parseRoute("/admin/room-status")).toEqual({ name: "room-status" });
    expect(parseRoute("/admin/history/x")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin/nope")).toEqual({ name: "notFound" });
    expect(parseRoute("/sessions")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin/rooms/%E0%A4")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin/translations")).toEqual({ name: "translations" });
    expect(parseRoute("/admin/translations/session/plenary%20a")).toEqual({ name: "translate", kind: "session", id: "plenary a" });
    expect(parseRoute("/admin/translations/session")).toEqual({ name: "notFound" });
  });

  it("knows the area of each route", () => {
    expect(areaOf(parseRoute("/admin/tracks/t1"))).toBe("programme");
    expect(areaOf(parseRoute("/admin/organisers"))).toBe("organisers");
    expect(areaOf(parseRoute("/admin/translations/event/event"))).toBe("programme");
    expect(areaOf(parseRoute("/admin"))).toBeNull();
  });
});

import { describe, expect, it } from "vitest";

import { buildModel, groupSlots, nowAndNext, orderAnnouncements } from "../../src/app/model";
import { demoProgramme } from "../fixtures";

const model = buildModel(demoProgramme());
const at = (iso: string) => Date.parse(iso);

describe("buildModel", () => {
  it("knows the event's days in its time zone", () => {
    expect(model.days).toEqual(["2024-07-23", "2024-07-24", "2024-07-25"]);
    expect(model.byDay.get("2024-07-23")![0]!.id).toBe("d1-registration");
  });

  it("groups parallel sessions into one slot", () => {
    const slots = groupSlots(model.byDay.get("2024-07-23")!);
    const workingGroups = slots.find((slot) => slot.start === "2024-07-23T13:15:00+08:00")!;
    expect(workingGroups.sessions).toHaveLength(6);
  });
});

describe("nowAndNext", () => {
  it("shows what runs and what starts within the hour", () => {
    const view = nowAndNext(model, at("2024-07-23T10:15:00+08:00"));
    expect(view.phase).toBe("during");
    expect(view.running.map((s) => s.id)).toEqual(["d1-coffee-am"]);
    expect(view.soon.map((s) => s.id)).toEqual(["plenary-aml"]);
  });

  it("before the event, shows how the first day opens", () => {
    const view = nowAndNext(model, at("2024-06-01T10:00:00+08:00"));
    expect(view.phase).toBe("before");
    expect(view.laterDay).toBe("2024-07-23");
    expect(view.later.map((s) => s.id)).toEqual(["d1-registration", "plenary-opening"]);
  });

  it("after the event, still shows the first day's opening", () => {
    const view = nowAndNext(model, at("2026-11-22T10:00:00+08:00"));
    expect(view.phase).toBe("after");
    expect(view.later[0]!.id).toBe("d1-registration");
  });

  it("overnight during the event, shows the next morning", () => {
    const view = nowAndNext(model, at("2024-07-23T23:00:00+08:00"));
    expect(view.running).toEqual([]);
    expect(view.laterDay).toBe("2024-07-24");
  });
});

describe("orderAnnouncements", () => {
  it("pins urgent ones, then shows the newest first", () => {
    const ordered = orderAnnouncements([
      { id: "old", publishedAt: "2024-07-23T08:00:00+08:00" },
      { id: "urgent-old", urgent: true, publishedAt: "2024-07-23T07:00:00+08:00" },
      { id: "new", publishedAt: "2024-07-23T01:30:00Z" },
      { id: "urgent-new", priority: "urgent", createdAt: "2024-07-23T09:00:00+08:00" },
    ]);
    expect(ordered.map((item) => item.id)).toEqual(["urgent-new", "urgent-old", "new", "old"]);
  });
});

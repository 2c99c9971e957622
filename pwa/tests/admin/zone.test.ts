import { describe, expect, it } from "vitest";

import { formatExact, formatMoment, fromLocalInput, offsetMinutes, offsetText, relativeTime, toLocalInput, zoneLabel } from "../../src/admin/zone";

describe("datetime-local values in the event's time zone", () => {
  it("reads a wall-clock time of the event zone, whatever the device's zone", () => {
    expect(fromLocalInput("2024-07-23T09:00", "Asia/Makassar")).toBe("2024-07-23T09:00:00+08:00");
    expect(fromLocalInput("2024-07-23T09:00", "Asia/Kolkata")).toBe("2024-07-23T09:00:00+05:30");
    expect(fromLocalInput("2024-07-23T09:00", "America/St_Johns")).toBe("2024-07-23T09:00:00-02:30");
    expect(fromLocalInput("2024-01-15T23:45", "UTC")).toBe("2024-01-15T23:45:00+00:00");
    expect(Date.parse(fromLocalInput("2024-07-23T09:00", "Asia/Makassar")!)).toBe(Date.parse("2024-07-23T01:00:00Z"));
  });

  it("shows an instant on the event zone's wall clock", () => {
    expect(toLocalInput("2024-07-23T01:00:00Z", "Asia/Makassar")).toBe("2024-07-23T09:00");
    expect(toLocalInput("2024-07-23T09:00:00+08:00", "Asia/Makassar")).toBe("2024-07-23T09:00");
    expect(toLocalInput("2024-07-23T16:30:00+00:00", "Asia/Makassar")).toBe("2024-07-24T00:30");
    expect(toLocalInput("", "Asia/Makassar")).toBe("");
    expect(toLocalInput("not a time", "Asia/Makassar")).toBe("");
  });

  it("round-trips every quarter hour of a day across a daylight-saving change", () => {
    for (let minutes = 0; minutes < 24 * 60; minutes += 15) {
      const instant = Date.parse("2024-10-26T22:00:00Z") + minutes * 60_000;
      const local = toLocalInput(new Date(instant).toISOString(), "Europe/Berlin");
      const back = fromLocalInput(local, "Europe/Berlin")!;
      // The hour that occurs twice is read as the first: only its second pass does not come back.
      const repeated = instant >= Date.parse("2024-10-27T01:00:00Z") && instant < Date.parse("2024-10-27T02:00:00Z");
      if (!repeated) expect(Date.parse(back)).toBe(instant);
      expect(toLocalInput(back, "Europe/Berlin")).toBe(local);
    }
  });

  it("moves a time skipped by a daylight-saving jump forward, and takes the first of a repeated one", () => {
    // Europe/Berlin: 02:00 → 03:00 on 31 March 2024; 03:00 → 02:00 on 27 October 2024.
    const skipped = fromLocalInput("2024-03-31T02:30", "Europe/Berlin")!;
    expect(skipped).toBe("2024-03-31T02:30:00+01:00");
    expect(toLocalInput(skipped, "Europe/Berlin")).toBe("2024-03-31T03:30");
    expect(fromLocalInput("2024-10-27T02:30", "Europe/Berlin")).toBe("2024-10-27T02:30:00+02:00");
    expect(fromLocalInput("2024-07-01T12:00", "Europe/Berlin")).toBe("2024-07-01T12:00:00+02:00");
    expect(fromLocalInput("2024-01-01T12:00", "Europe/Berlin")).toBe("2024-01-01T12:00:00+01:00");
  });

  it("refuses what is not a time", () => {
    expect(fromLocalInput("", "Asia/Makassar")).toBeNull();
    expect(fromLocalInput("2024-07-23", "Asia/Makassar")).toBeNull();
    expect(fromLocalInput("2024-02-30T09:00", "Asia/Makassar")).toBeNull();
    expect(fromLocalInput("2024-07-23T25:00", "Asia/Makassar")).toBeNull();
    expect(fromLocalInput("2024-07-23T09:00:30", "Asia/Makassar")).toBe("2024-07-23T09:00:30+08:00");
  });

  it("names the zone with its offset", () => {
    expect(offsetMinutes(Date.parse("2024-07-23T00:00:00Z"), "Asia/Makassar")).toBe(480);
    expect(offsetText(480)).toBe("+08:00");
    expect(offsetText(-150)).toBe("-02:30");
    expect(offsetText(0)).toBe("+00:00");
    expect(zoneLabel("Asia/Makassar", Date.parse("2024-07-23T00:00:00Z"))).toBe("Asia/Makassar (UTC+08:00)");
  });
});

describe("times shown in the console", () => {
  it("formats a moment in the event zone", () => {
    expect(formatMoment("2024-07-23T01:00:00Z", "Asia/Makassar")).toBe("Tue 23 Jul, 09:00");
    expect(formatExact("2024-07-23T01:00:05Z", "Asia/Makassar")).toBe("23 Jul 2024, 09:00:05 (Asia/Makassar)");
  });

  it("says how long ago something happened", () => {
    const now = Date.parse("2024-07-23T12:00:00Z");
    expect(relativeTime("2024-07-23T11:59:40Z", now)).toBe("just now");
    expect(relativeTime("2024-07-23T11:55:00Z", now)).toBe("5 minutes ago");
    expect(relativeTime("2024-07-23T11:59:00Z", now)).toBe("1 minute ago");
    expect(relativeTime("2024-07-23T09:00:00Z", now)).toBe("3 hours ago");
    expect(relativeTime("2024-07-21T12:00:00Z", now)).toBe("2 days ago");
    expect(relativeTime("2024-07-23T12:10:00Z", now)).toBe("in 10 minutes");
  });
});

import { describe, expect, it } from "vitest";

import { en } from "../../src/app/i18n/en";
import { dayKey, daysBetween, formatDayShort, formatTime, formatTimeRange, updatedText, zoneName } from "../../src/app/time";

describe("time formatting", () => {
  it("shows a range in the event zone with the zone named", () => {
    expect(formatTimeRange("2024-07-23T08:30:00+08:00", "2024-07-23T10:00:00+08:00", "Asia/Makassar", "en-GB")).toBe(
      "08:30–10:00 GMT+8",
    );
    expect(formatTimeRange("2024-07-23T08:30:00+08:00", "2024-07-23T10:00:00+08:00", "Asia/Makassar", "id-ID")).toBe(
      "08.30–10.00 WITA",
    );
  });

  it("converts to the attendee's zone and names it", () => {
    expect(formatTimeRange("2024-07-23T08:30:00+08:00", "2024-07-23T10:00:00+08:00", "Asia/Bangkok", "en-GB")).toBe(
      "07:30–09:00 GMT+7",
    );
    expect(formatTime("2024-07-23T08:30:00+08:00", "Asia/Kolkata", "en-GB")).toBe("06:00");
  });

  it("gives zone names short and long", () => {
    expect(zoneName("Asia/Makassar", "en-GB", "2024-07-23T00:00:00Z", "long")).toBe("Central Indonesia Time");
    expect(zoneName("Asia/Makassar", "th-TH", "2024-07-23T00:00:00Z", "short")).toMatch(/GMT\+8/);
  });

  it("labels day tabs as weekday, day and month", () => {
    expect(formatDayShort("2024-07-23", "en-GB")).toBe("Tue 23 Jul");
    expect(formatDayShort("2024-07-25", "en-GB")).toBe("Thu 25 Jul");
  });

  it("puts a session on its day in the event's zone, not UTC's", () => {
    expect(dayKey("2024-07-24T07:30:00+08:00", "Asia/Makassar")).toBe("2024-07-24");
    expect(dayKey("2024-07-24T07:30:00+08:00", "UTC")).toBe("2024-07-23");
  });

  it("lists the event's days", () => {
    expect(daysBetween("2024-07-30", "2024-08-01")).toEqual(["2024-07-30", "2024-07-31", "2024-08-01"]);
  });

  it("says how long ago the programme was updated", () => {
    const at = Date.UTC(2024, 6, 23, 9);
    expect(updatedText(en, null, at)).toBe("Not downloaded yet");
    expect(updatedText(en, at, at + 30_000)).toBe("Updated just now");
    expect(updatedText(en, at, at + 60_000)).toBe("Updated 1 minute ago");
    expect(updatedText(en, at, at + 7 * 60_000)).toBe("Updated 7 minutes ago");
    expect(updatedText(en, at, at + 3 * 3_600_000)).toBe("Updated 3 hours ago");
  });

  it("says changes are waiting, not that it is up to date, while it knows of a change it has not loaded", () => {
    const at = Date.UTC(2024, 6, 23, 9);
    expect(updatedText(en, at, at + 1_000, true)).toBe("Changes waiting to load");
  });
});

import { describe, expect, it } from "vitest";

import { dueReminders, parseMinutes, reminderKey } from "../../src/app/reminder-prefs";
import { session } from "../fixtures";

const at = (text: string) => Date.parse(text);

describe("dueReminders", () => {
  const talk = session("talk", "2024-07-23T10:00:00+08:00", "2024-07-23T11:00:00+08:00");
  const other = session("other", "2024-07-23T10:00:00+08:00", "2024-07-23T11:00:00+08:00");
  const cancelled = session("gone", "2024-07-23T10:05:00+08:00", "2024-07-23T11:00:00+08:00", { status: "cancelled" });
  const bookmarked = new Set(["talk", "gone"]);
  const due = (now: string, minutes = 10, dismissed: ReadonlySet<string> = new Set()) =>
    dueReminders([talk, other, cancelled], bookmarked, minutes, at(now), dismissed).map((item) => item.id);

  it("reminds of bookmarked sessions from the chosen minutes before until they start", () => {
    expect(due("2024-07-23T09:49:59+08:00")).toEqual([]);
    expect(due("2024-07-23T09:50:00+08:00")).toEqual(["talk"]);
    expect(due("2024-07-23T09:59:59+08:00")).toEqual(["talk"]);
    expect(due("2024-07-23T10:00:00+08:00")).toEqual([]);
    expect(due("2024-07-23T09:35:00+08:00", 30)).toEqual(["talk"]);
    expect(due("2024-07-23T09:35:00+08:00", 15)).toEqual([]);
  });

  it("never reminds of a cancelled session, nor of a dismissed one unless it moved", () => {
    expect(due("2024-07-23T09:58:00+08:00")).not.toContain("gone");
    expect(due("2024-07-23T09:55:00+08:00", 10, new Set([reminderKey(talk)]))).toEqual([]);
    const moved = { ...talk, start: "2024-07-23T10:02:00+08:00" };
    expect(dueReminders([moved], bookmarked, 10, at("2024-07-23T09:55:00+08:00"), new Set([reminderKey(talk)]))).toHaveLength(1);
  });
});

describe("parseMinutes", () => {
  it("accepts only the lead times offered", () => {
    expect(parseMinutes("10")).toBe(10);
    expect(parseMinutes("30")).toBe(30);
    expect(parseMinutes("off")).toBeNull();
    expect(parseMinutes("7")).toBeNull();
    expect(parseMinutes(null)).toBeNull();
  });
});

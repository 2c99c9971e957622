import { describe, expect, it } from "vitest";

import { findOverlaps } from "../../src/app/agenda";
import { session } from "../fixtures";

const ids = (map: Map<string, { id: string }[]>, id: string) => (map.get(id) ?? []).map((item) => item.id).sort();

describe("findOverlaps", () => {
  it("flags sessions that share time, both ways", () => {
    const overlaps = findOverlaps([
      session("a", "2024-07-23T09:00:00+08:00", "2024-07-23T10:30:00+08:00"),
      session("b", "2024-07-23T10:00:00+08:00", "2024-07-23T11:00:00+08:00"),
      session("c", "2024-07-23T12:00:00+08:00", "2024-07-23T13:00:00+08:00"),
    ]);
    expect(ids(overlaps, "a")).toEqual(["b"]);
    expect(ids(overlaps, "b")).toEqual(["a"]);
    expect(overlaps.has("c")).toBe(false);
  });

  it("does not flag back-to-back sessions", () => {
    const overlaps = findOverlaps([
      session("a", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00"),
      session("b", "2024-07-23T10:00:00+08:00", "2024-07-23T11:00:00+08:00"),
    ]);
    expect(overlaps.size).toBe(0);
  });

  it("compares instants, not clock times in different offsets", () => {
    const overlaps = findOverlaps([
      session("bali", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00"),
      // 09:30 in Bali, written in Bangkok time.
      session("bangkok", "2024-07-23T08:30:00+07:00", "2024-07-23T09:30:00+07:00"),
      // 09:30 in Bangkok is 10:30 in Bali: no clash.
      session("later", "2024-07-23T09:30:00+07:00", "2024-07-23T10:00:00+07:00"),
    ]);
    expect(ids(overlaps, "bali")).toEqual(["bangkok"]);
    expect(overlaps.has("later")).toBe(false);
  });

  it("finds every clash of a long session and ignores cancelled ones", () => {
    const overlaps = findOverlaps([
      session("long", "2024-07-23T09:00:00+08:00", "2024-07-23T12:00:00+08:00"),
      session("x", "2024-07-23T09:30:00+08:00", "2024-07-23T10:00:00+08:00"),
      session("y", "2024-07-23T11:00:00+08:00", "2024-07-23T11:30:00+08:00"),
      session("gone", "2024-07-23T10:00:00+08:00", "2024-07-23T11:00:00+08:00", { status: "cancelled" }),
    ]);
    expect(ids(overlaps, "long")).toEqual(["x", "y"]);
    expect(overlaps.has("gone")).toBe(false);
  });
});

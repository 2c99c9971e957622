import { describe, expect, it } from "vitest";

import { PLAN_BUDGET_BYTES, planImages, type FloorPlan } from "../../src/shared/venue";

function plan(id: string, bytes: number, smallBytes: number): FloorPlan {
  return {
    id,
    floor: id,
    position: 0,
    version: 1,
    width: 4000,
    height: 3000,
    bytes,
    url: `/api/floor-plans/${id}/image?size=full&v=1`,
    smallWidth: 1200,
    smallHeight: 900,
    smallBytes,
    smallUrl: `/api/floor-plans/${id}/image?size=small&v=1`,
    updatedAt: "",
  };
}

describe("planImages", () => {
  it("keeps the phone copy on a small screen", () => {
    const chosen = planImages([plan("a", 3_000_000, 200_000)], 1080);
    expect(chosen.get("a")?.url).toContain("size=small");
  });

  it("keeps the plan as uploaded on a large screen while the budget allows, then the copies", () => {
    const plans = [plan("a", PLAN_BUDGET_BYTES - 100_000, 200_000), plan("b", 3_000_000, 200_000)];
    const chosen = planImages(plans, 2560);
    expect(chosen.get("a")?.url).toContain("size=full");
    expect(chosen.get("b")).toBeUndefined();
  });

  it("falls back to the copy when the full plan would pass the budget", () => {
    const plans = [plan("a", 4_000_000, 300_000), plan("b", 4_000_000, 300_000)];
    const chosen = planImages(plans, 2560);
    expect(chosen.get("a")?.url).toContain("size=full");
    expect(chosen.get("b")?.url).toContain("size=small");
  });
});

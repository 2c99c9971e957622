import { describe, expect, it } from "vitest";

import { editMaySet, looserThan } from "../../src/admin/privacy";
import { mayLoosenPrivacy } from "../../src/admin/roles";

describe("recording policies only tighten through the edit form", () => {
  it("offers a stored session its own policy and stricter ones", () => {
    expect(editMaySet("no-recording", "off-the-record")).toBe(true);
    expect(editMaySet("no-recording", "no-recording")).toBe(true);
    expect(editMaySet("no-recording", "public")).toBe(false);
    expect(editMaySet("off-the-record", "no-recording")).toBe(false);
    expect(editMaySet(undefined, "public")).toBe(true);
  });

  it("leaves the less strict ones to an admin's deliberate step", () => {
    expect(looserThan("off-the-record")).toEqual(["public", "no-recording"]);
    expect(looserThan("no-recording")).toEqual(["public"]);
    expect(looserThan("public")).toEqual([]);
  });
});

describe("who may reveal a speaker or loosen a policy", () => {
  it("is admins only", () => {
    expect(mayLoosenPrivacy("admin")).toBe(true);
    expect(mayLoosenPrivacy("editor")).toBe(false);
    expect(mayLoosenPrivacy("announcer")).toBe(false);
    expect(mayLoosenPrivacy("someone")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";

import { ApiError, problemsOf, retryAfterSeconds } from "../../src/admin/api";
import { errorsFrom, fieldOf, mapProblems, waitMessage } from "../../src/admin/fields";
import { SESSION_FIELDS } from "../../src/admin/drafts";

describe("server refusals mapped to form fields", () => {
  it("finds the field a problem key names", () => {
    expect(fieldOf("end")).toBe("end");
    expect(fieldOf("speakerIds[1]")).toBe("speakerIds");
    expect(fieldOf("links[0].url")).toBe("links");
    expect(fieldOf("$.title")).toBe("title");
    expect(fieldOf("data.roomId")).toBe("roomId");
    expect(fieldOf("")).toBe("");
  });

  it("puts each message beside its field and the rest above the form", () => {
    const errors = mapProblems(
      "Invalid request",
      [
        { key: "end", message: "end (2024-07-23T08:00:00+08:00) must be after start (2024-07-23T09:00:00+08:00)" },
        { key: "speakerIds[1]", message: "speakerIds[1]: there is no speaker with id 'ghost'" },
        { key: "speakerIds[2]", message: "a second problem with speakers" },
        { key: "guid", message: "the guid 'x' belongs to session 'y'" },
        { key: "interpretation.fr", message: "Expected `str` matching regex '^https?://'" },
      ],
      SESSION_FIELDS,
    );
    expect(errors.fields).toEqual({
      end: "end (2024-07-23T08:00:00+08:00) must be after start (2024-07-23T09:00:00+08:00)",
      speakerIds: "speakerIds[1]: there is no speaker with id 'ghost'",
    });
    expect(errors.general).toEqual(["the guid 'x' belongs to session 'y'", "interpretation.fr: Expected `str` matching regex '^https?://'"]);
  });

  it("keeps the detail when no problem names a field", () => {
    expect(mapProblems("2 session(s) still use room 'hall'", [], SESSION_FIELDS)).toEqual({
      fields: {},
      general: ["2 session(s) still use room 'hall'"],
    });
  });

  it("uses aliases for fields shown under another name", () => {
    expect(mapProblems("x", [{ key: "title", message: "too long" }], ["heading"], { title: "heading" }).fields).toEqual({ heading: "too long" });
  });

  it("turns a 429 into how long to wait", () => {
    const error = new ApiError(429, "too many sign-in attempts", [], 30);
    expect(errorsFrom(error, ["name"])).toEqual({ fields: {}, general: ["Too many attempts. Wait 30 seconds and try again."] });
    expect(waitMessage({ retryAfter: 1 })).toBe("Too many attempts. Wait 1 second and try again.");
    expect(waitMessage({ retryAfter: 600 })).toBe("Too many attempts. Wait 10 minutes and try again.");
  });

  it("reads error bodies and Retry-After headers of any shape", () => {
    expect(problemsOf([{ key: "title", message: "Expected `str`" }, null, "x", { message: "no key" }])).toEqual([
      { key: "title", message: "Expected `str`" },
      { key: "", message: "no key" },
    ]);
    expect(problemsOf(undefined)).toEqual([]);
    expect(retryAfterSeconds("30")).toBe(30);
    expect(retryAfterSeconds(null)).toBeNull();
    expect(retryAfterSeconds("Tue, 23 Jul 2024 12:01:00 GMT", Date.parse("2024-07-23T12:00:00Z"))).toBe(60);
  });
});

import { describe, expect, it, vi } from "vitest";

import { parseRoute as parseConsoleRoute } from "../../src/admin/router";
import { pathSegments } from "../../src/shared/routing";

describe("path segments, shared by the app's and the console's routers", () => {
  it("decodes each segment and ignores empty ones", () => {
    expect(pathSegments("/sessions/a%20b/")).toEqual(["sessions", "a b"]);
    expect(pathSegments("/")).toEqual([]);
    expect(pathSegments("/admin/rooms/x", "/admin")).toEqual(["rooms", "x"]);
  });

  it("gives null for a malformed percent-escape, or a path outside its base", () => {
    expect(pathSegments("/sessions/%E0%A4%A")).toBeNull();
    expect(pathSegments("/admin/sessions/%E0%A4%A", "/admin")).toBeNull();
    expect(pathSegments("/administrator", "/admin")).toBeNull();
  });
});

describe("a malformed address shows the not-found view", () => {
  it("in the attendee app", async () => {
    vi.stubGlobal("window", { location: { pathname: "/", search: "" } });
    try {
      const { parseRoute } = await import("../../src/app/router");
      expect(parseRoute("/sessions/%E0%A4%A")).toEqual({ name: "notFound" });
      expect(parseRoute("/sessions/%E0%A4%A4")).toEqual({ name: "session", id: "त" });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("in the console", () => {
    expect(parseConsoleRoute("/admin/sessions/%E0%A4%A")).toEqual({ name: "notFound" });
  });
});

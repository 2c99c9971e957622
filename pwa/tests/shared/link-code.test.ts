import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "../../src/shared/db";
import { createLinkCode, validFor } from "../../src/shared/private-api";
import { adoptIdentity } from "../../src/shared/private-store";

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

describe("how long a link code stays valid", () => {
  const expiresAt = "2026-12-07T01:10:00.500Z";

  it("counts from the server's Date, whatever the device's clock says", () => {
    const server = "Mon, 07 Dec 2026 01:00:00 GMT";
    const anHourAhead = Date.parse("2026-12-07T02:00:00Z");
    const aYearBehind = Date.parse("2025-12-07T01:00:00Z");
    expect(validFor(expiresAt, server, anHourAhead)).toBe(600_500);
    expect(validFor(expiresAt, server, aYearBehind)).toBe(600_500);
  });

  it("falls back to the device's clock without a usable Date, and is never negative", () => {
    expect(validFor(expiresAt, null, Date.parse("2026-12-07T01:05:00.500Z"))).toBe(300_000);
    expect(validFor(expiresAt, "soon", Date.parse("2026-12-07T01:05:00.500Z"))).toBe(300_000);
    expect(validFor(expiresAt, "Mon, 07 Dec 2026 02:00:00 GMT", 0)).toBe(0);
  });

  it("is what createLinkCode gives, from the response's Date header", async () => {
    await adoptIdentity({ attendeeId: "a1", token: "kpa_test" });
    const fetch = async () =>
      new Response(JSON.stringify({ code: "ABCDE-FGHIJ", expiresAt }), {
        status: 201,
        headers: { "Content-Type": "application/json", Date: "Mon, 07 Dec 2026 01:00:00 GMT" },
      });
    const code = await createLinkCode({ fetch });
    expect(code).toEqual({ code: "ABCDE-FGHIJ", expiresAt, validForMs: 600_500 });
  });
});

import { describe, expect, it } from "vitest";

import { ENGLISH, LANGUAGES, loadMessages, pickLanguage } from "../../src/app/i18n";
import { plural } from "../../src/shared/intl";

describe("pickLanguage", () => {
  it("keeps the attendee's choice", () => {
    expect(pickLanguage(["en-US"], "th")).toBe("th");
    expect(pickLanguage(["en-US"], "km")).toBe("km");
  });

  it("takes the first browser language the app speaks", () => {
    expect(pickLanguage(["fr-FR", "th-TH", "en"], null)).toBe("th");
    expect(pickLanguage(["id"], null)).toBe("id");
    expect(pickLanguage(["ms-MY"], null)).toBe("ms");
    expect(pickLanguage(["vi-VN"], null)).toBe("vi");
    expect(pickLanguage(["bn-IN"], null)).toBe("bn");
    expect(pickLanguage(["ne-NP"], null)).toBe("ne");
    expect(pickLanguage(["mn"], null)).toBe("mn");
    expect(pickLanguage(["hi-IN", "en"], null)).toBe("hi");
    expect(pickLanguage(["km-KH"], null)).toBe("km");
    expect(pickLanguage(["de", "ja"], null)).toBe("en");
    expect(pickLanguage([], "xx")).toBe("en");
  });

  it("maps the browser's other codes for our languages", () => {
    expect(pickLanguage(["tl-PH"], null)).toBe("fil");
    expect(pickLanguage(["fil-PH"], null)).toBe("fil");
    expect(pickLanguage(["zsm"], null)).toBe("ms");
    expect(pickLanguage(["in-ID"], null)).toBe("id");
  });
});

describe("messages", () => {
  it("promise to erase the session ratings too (erasing deletes them on the server)", async () => {
    const ratings: Record<string, RegExp> = { en: /rating/i, id: /penilaian/i, th: /คะแนน/, ms: /penilaian/i, vi: /đánh giá/i };
    for (const { code } of LANGUAGES) {
      const messages = await loadMessages(code);
      if (ratings[code]) expect(messages["device.eraseExplain"]).toMatch(ratings[code]);
    }
  });

  it("count in English with singular and plural", () => {
    expect(ENGLISH.sessionsCount(1)).toBe("1 session");
    expect(ENGLISH.sessionsCount(12)).toBe("12 sessions");
  });

  it("count through Intl.PluralRules and write numbers as the language does", async () => {
    expect(plural("en", 1, { one: "{n} day", other: "{n} days" })).toBe("1 day");
    expect(plural("en", 1000, { one: "{n} day", other: "{n} days" })).toBe("1,000 days");
    // Hindi and Bengali take the "one" form for 0 as well as 1.
    expect(plural("hi", 0, { one: "one {n}", other: "other {n}" })).toBe("one 0");
    expect(plural("bn", 21, { other: "{n}" })).toBe("২১");
    expect(plural("ne", 5, { other: "{n}" })).toBe("५");
    expect((await loadMessages("bn")).sessionsCount(21)).toContain("২১");
    expect((await loadMessages("hi")).seats(1)).toBe("1 सीट");
  });
});

describe("dates in a language the browser's Intl has no data for", () => {
  it("are written in digits, not in another language's words", async () => {
    const { dateTimeFormat, hasDateNames } = await import("../../src/shared/intl");
    expect(hasDateNames("km-KH")).toBe(true); // Node has full ICU; desktop Chromium does not
    expect(hasDateNames("xx-XX")).toBe(false);
    const day = new Date("2024-07-23T12:00:00Z");
    const long = { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" } as const;
    expect(dateTimeFormat("xx-XX", long).format(day)).toBe("23/07/2024");
    expect(dateTimeFormat("id-ID", long).format(day)).toBe("Selasa, 23 Juli 2024");
    const zone = dateTimeFormat("xx-XX", { timeZone: "Asia/Makassar", timeZoneName: "long", hour: "numeric" }).formatToParts(day);
    expect(zone.find((part) => part.type === "timeZoneName")?.value).toBe("GMT+08:00");
  });
});

import { describe, expect, it } from "vitest";

import { LANGUAGES, MESSAGES, pickLanguage } from "../../src/app/i18n";

describe("pickLanguage", () => {
  it("keeps the attendee's choice", () => {
    expect(pickLanguage(["en-US"], "th")).toBe("th");
  });

  it("takes the first browser language the app speaks", () => {
    expect(pickLanguage(["fr-FR", "th-TH", "en"], null)).toBe("th");
    expect(pickLanguage(["id"], null)).toBe("id");
    expect(pickLanguage(["ms-MY"], null)).toBe("id");
    expect(pickLanguage(["de", "ja"], null)).toBe("en");
    expect(pickLanguage([], "xx")).toBe("en");
  });
});

describe("messages", () => {
  it("exist in every language for every key, translated", () => {
    const keys = Object.keys(MESSAGES.en);
    for (const { code } of LANGUAGES) {
      expect(Object.keys(MESSAGES[code]).sort()).toEqual([...keys].sort());
    }
    const same = keys.filter((key) => String(MESSAGES.th[key as keyof typeof MESSAGES.en]) === String(MESSAGES.en[key as keyof typeof MESSAGES.en]));
    expect(same).toEqual([]);
  });

  it("promise to erase the session ratings too (erasing deletes them on the server)", () => {
    const ratings = { en: /rating/i, id: /penilaian/i, th: /คะแนน/ };
    for (const { code } of LANGUAGES) {
      expect(MESSAGES[code]["device.eraseExplain"]).toMatch(ratings[code]);
    }
  });

  it("count in English with singular and plural", () => {
    expect(MESSAGES.en.sessionsCount(1)).toBe("1 session");
    expect(MESSAGES.en.sessionsCount(12)).toBe("12 sessions");
  });
});

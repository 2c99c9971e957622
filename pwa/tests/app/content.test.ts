import { describe, expect, it } from "vitest";

import { allTexts, initials, languageLabel, localized, showOriginalWhenStale, shownLanguage, staleShown } from "../../src/app/content";
import type { Session } from "../../src/shared/types";
import { session } from "../fixtures";

const translated: Session = session("x", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00", {
  title: "Coffee break",
  abstract: "Coffee on the terrace.",
  translations: { id: { title: "Rehat kopi" }, th: { title: "  " } },
});

describe("localized", () => {
  it("uses the translation when there is one, else the original", () => {
    expect(localized(translated, "title", "id")).toBe("Rehat kopi");
    expect(localized(translated, "abstract", "id")).toBe("Coffee on the terrace.");
    expect(localized(translated, "title", "th")).toBe("Coffee break");
    expect(localized(translated, "title", "en")).toBe("Coffee break");
  });

  it("tells which language is shown, for lang attributes", () => {
    expect(shownLanguage(translated, "title", "id", "en")).toBe("id");
    expect(shownLanguage(translated, "abstract", "id", "en")).toBe("en");
  });

  it("marks a stale translation, or shows the original instead when the event says so", () => {
    const renamed: Session = session("y", "2024-07-23T09:00:00+08:00", "2024-07-23T10:00:00+08:00", {
      title: "Coffee and tea",
      abstract: "Coffee on the terrace.",
      translations: { id: { title: "Rehat kopi", abstract: "Kopi di teras.", stale: ["title"] } },
    });
    expect(localized(renamed, "title", "id")).toBe("Rehat kopi");
    expect(staleShown(renamed, ["title", "abstract", "subtitle"], "id")).toEqual(["title"]);
    expect(staleShown(renamed, ["title"], "th")).toEqual([]);
    showOriginalWhenStale.value = true;
    try {
      expect(localized(renamed, "title", "id")).toBe("Coffee and tea");
      expect(shownLanguage(renamed, "title", "id", "en")).toBe("en");
      expect(localized(renamed, "abstract", "id")).toBe("Kopi di teras.");
      expect(staleShown(renamed, ["title", "abstract"], "id")).toEqual([]);
    } finally {
      showOriginalWhenStale.value = false;
    }
  });

  it("collects every language's text for search", () => {
    expect(allTexts(translated, "title")).toEqual(["Coffee break", "Rehat kopi", "  "]);
  });
});

describe("languageLabel", () => {
  it("names a language as its speakers do, then in the interface language", () => {
    expect(languageLabel("id", "en")).toBe("Bahasa Indonesia (Indonesian)");
    expect(languageLabel("th", "en")).toBe("ไทย (Thai)");
    expect(languageLabel("en", "en")).toBe("English");
    expect(languageLabel("th", "th")).toBe("ไทย");
  });
});

describe("initials", () => {
  it("takes the first and last words", () => {
    expect(initials("Maria Luisa Dimaculangan")).toBe("MD");
    expect(initials("Mawar")).toBe("M");
    expect(initials("  ")).toBe("?");
  });
});

import { describe, expect, it } from "vitest";

import { buildIndex, matchSessions, normalise, queryTerms } from "../../src/app/search";
import { demoProgramme, session, smallProgramme } from "../fixtures";

const search = (query: string, programme = demoProgramme()) => [...matchSessions(buildIndex(programme), queryTerms(query))];

describe("normalise", () => {
  it("ignores case and diacritics", () => {
    expect(normalise("Café CRÈME à São Paulo")).toBe("cafe creme a sao paulo");
    expect(normalise("Tiếng Việt")).toBe("tieng viet");
    expect(normalise("İstanbul")).toBe("istanbul");
  });

  it("treats punctuation as spaces", () => {
    expect(normalise("anti-money-laundering, (AML)")).toBe("anti money laundering aml");
  });

  it("keeps Thai consonants and drops marks on both sides alike", () => {
    expect(normalise("การค้ามนุษย์")).toBe(normalise("การคามนุษย"));
    expect(normalise("ค้า")).not.toBe(normalise("ขา"));
  });
});

describe("session search", () => {
  it("finds sessions by title regardless of case and accents", () => {
    expect(search("WORLD CAFÉ TABLE: migrants")).toEqual(["wc-migrants"]);
    expect(search("world cafe table migrants")).toEqual(["wc-migrants"]);
  });

  it("finds sessions by an Indonesian translation", () => {
    expect(search("pencucian uang")).toEqual(["plenary-aml"]);
    expect(search("PENCUCIAN")).toContain("plenary-aml");
  });

  it("finds sessions by a Thai translation, with or without tone marks", () => {
    expect(search("ตามรอยเงิน")).toEqual(["plenary-aml"]);
    expect(search("ตามรอยเงน")).toEqual(["plenary-aml"]);
  });

  it("finds sessions by speaker name", () => {
    const found = search("emma whitfield");
    expect(found).toContain("plenary-aml");
    expect(found).toContain("plenary-opening");
  });

  it("finds sessions by words of the abstract and needs every word", () => {
    expect(search("frozen assets")).toEqual(["plenary-aml"]);
    expect(search("frozen zebra")).toEqual([]);
  });

  it("searches subtitles and descriptions too", () => {
    const programme = smallProgramme();
    programme.sessions.push(session("x", "2024-07-23T13:00:00+08:00", "2024-07-23T14:00:00+08:00", { subtitle: "Récit", description: "Ñandú" }));
    expect(search("recit", programme)).toEqual(["x"]);
    expect(search("nandu", programme)).toEqual(["x"]);
  });
});

describe("word forms", () => {
  const withAbstract = (abstract: string, language = "en") => {
    const programme = smallProgramme();
    programme.event = { ...programme.event!, language };
    programme.sessions.push(session("x", "2024-07-23T13:00:00+08:00", "2024-07-23T14:00:00+08:00", { abstract }));
    return programme;
  };

  it("finds English word forms", () => {
    const programme = withAbstract("Fishers at sea and the trafficked workers on their boats");
    expect(search("fishing", programme)).toEqual(["x"]);
    expect(search("trafficking boat", programme)).toEqual(["x"]);
    expect(search("working", programme)).toEqual(["x"]);
    expect(search("farming", programme)).toEqual([]);
  });

  it("finds Indonesian word forms", () => {
    const programme = withAbstract("Pemantauan kapal dan penyelamatan nelayan", "id");
    expect(search("memantau", programme)).toEqual(["x"]);
    expect(search("menyelamatkan nelayannya", programme)).toEqual(["x"]);
  });

  it("splits a Thai query into words, in any order", () => {
    const programme = withAbstract("การประชุมเรื่องการค้ามนุษย์ในภูมิภาค", "th");
    expect(search("การค้ามนุษย์การประชุม", programme)).toEqual(["x"]);
  });
});

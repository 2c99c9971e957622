import { describe, expect, it } from "vitest";

import { exportFileName, notesToMarkdown, plainText, type ExportNote } from "../../../src/app/notes/markdown";

const sessions: Record<string, { title: string; start: string; when: string }> = {
  early: { title: "Opening plenary", start: "2024-07-23T08:30:00+08:00", when: "Tue 23 Jul, 08:30–10:00 GMT+8" },
  late: { title: "Closing", start: "2024-07-25T16:00:00+08:00", when: "Thu 25 Jul, 16:00–17:00 GMT+8" },
};

function note(extra: Partial<ExportNote>): ExportNote {
  return { title: "", body: "", sessionId: null, createdAt: 0, deleted: false, ...extra };
}

describe("notesToMarkdown", () => {
  it("writes one section per note: sessions in programme order with title and time, then other notes", () => {
    const markdown = notesToMarkdown(
      [
        note({ sessionId: "late", body: "Thank the volunteers.", createdAt: 3 }),
        note({ title: "Ideas\nfor us", body: "Line one\n\nLine two", createdAt: 5 }),
        note({ sessionId: "early", body: "Key point: data", createdAt: 9 }),
        note({ sessionId: "gone", body: "Orphan", createdAt: 1 }),
        note({ title: "Deleted", body: "secret", deleted: true }),
        note({ sessionId: "early", body: "   " }),
      ],
      {
        heading: "My notes — ARAT 2024",
        sessionOf: (id) => sessions[id],
        untitled: "Untitled note",
        sessionGone: "A session no longer in the programme",
        written: (at) => `Written at ${at}`,
      },
    );
    expect(markdown).toBe(
      [
        "# My notes — ARAT 2024",
        "",
        "## Opening plenary — Tue 23 Jul, 08:30–10:00 GMT+8",
        "",
        "Key point: data",
        "",
        "## Closing — Thu 25 Jul, 16:00–17:00 GMT+8",
        "",
        "Thank the volunteers.",
        "",
        "## A session no longer in the programme",
        "",
        "Orphan",
        "",
        "## Ideas for us",
        "",
        "_Written at 5_",
        "",
        "Line one",
        "",
        "Line two",
        "",
      ].join("\n"),
    );
    expect(markdown).not.toContain("secret");
  });

  it("names the file by the day", () => {
    expect(exportFileName(new Date(2024, 6, 23, 10))).toBe("kumpul-notes-2024-07-23.md");
  });
});

describe("a note's plain text, for the notes list", () => {
  it("drops Markdown marks and keeps the words", () => {
    expect(plainText("**Bitung** port: ask _Ibu Sari_ about the ~~old~~ new *shelter*")).toBe("Bitung port: ask Ibu Sari about the old new shelter");
    expect(plainText("# Follow up\n\n- [ ] call `KPAI`\n- see [the map](https://example.org/map)\n> quoted")).toBe(
      "Follow up call KPAI see the map quoted",
    );
    expect(plainText("1. first\n2) second\n\n---\n![venue](x.png)")).toBe("first second venue");
  });

  it("leaves text that only looks like marks", () => {
    expect(plainText("snake_case_name and 2 * 3 * 4 and a\\*b")).toBe("snake_case_name and 2 * 3 * 4 and a*b");
  });
});

/**
 * "Export my notes": every note as one Markdown file, one section per note. Notes on sessions
 * come first in programme order, headed by the session's title and time; other notes follow,
 * oldest first, headed by their title.
 */

export interface ExportNote {
  title: string;
  body: string;
  sessionId: string | null;
  createdAt: number;
  deleted: boolean;
}

export interface ExportSession {
  title: string;
  start: string;
  /** The session's day and time as shown in the app, with the zone named. */
  when: string;
}

export interface ExportOptions {
  /** The first heading: "My notes", with the event's name. */
  heading: string;
  sessionOf: (id: string) => ExportSession | undefined;
  untitled: string;
  sessionGone: string;
  written: (createdAt: number) => string;
}

/**
 * The plain text a note's Markdown reads as, for one-line previews: `**Bitung** port, see [the map](https://…)`
 * reads "Bitung port, see the map". Marks are dropped, their words kept; line structure is not.
 */
export function plainText(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) =>
      line
        .replace(/^\s{0,3}(?:#{1,6}\s+|>\s?)+/, "") // headings, quotes
        .replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/, "") // list items, task boxes
        .replace(/^\s*(?:[-*_]\s*){3,}$/, "") // rules
        .replace(/^\s*(?:```|~~~).*$/, ""), // code fences
    )
    .join("\n")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1") // images: their alt text
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1") // links: their text
    .replace(/<((?:https?:\/\/|mailto:)[^>\s]+)>/g, "$1") // autolinks
    .replace(/`+([^`]+)`+/g, "$1")
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "$1")
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?!\w)/g, "$1$2")
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, "$1$2")
    .replace(/\\([\\`*_{}[\]()#+\-.!~>])/g, "$1") // escaped marks
    .replace(/\s+/g, " ")
    .trim();
}

/** One line of heading text: no line breaks, no Markdown heading marks running into the text. */
function headingText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Sessions in programme order (by start instant); unknown sessions last. */
export function byStart(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return Date.parse(a) - Date.parse(b);
}

function hasText(note: ExportNote): boolean {
  return !note.deleted && (note.title.trim() !== "" || note.body.trim() !== "");
}

export function notesToMarkdown(notes: readonly ExportNote[], options: ExportOptions): string {
  const kept = notes.filter(hasText);
  const onSessions = kept
    .filter((note) => note.sessionId !== null)
    .map((note) => ({ note, session: options.sessionOf(note.sessionId!) }))
    .sort((a, b) => byStart(a.session?.start, b.session?.start) || a.note.createdAt - b.note.createdAt);
  const others = kept.filter((note) => note.sessionId === null).sort((a, b) => a.createdAt - b.createdAt);
  const sections = [`# ${headingText(options.heading)}`];
  for (const { note, session } of onSessions) {
    const heading = session ? `${session.title} — ${session.when}` : options.sessionGone;
    const title = note.title.trim() ? `\n\n**${headingText(note.title)}**` : "";
    sections.push(`## ${headingText(heading)}${title}\n\n${note.body.trim()}`);
  }
  for (const note of others) {
    const heading = note.title.trim() ? note.title : options.untitled;
    sections.push(`## ${headingText(heading)}\n\n_${options.written(note.createdAt)}_\n\n${note.body.trim()}`);
  }
  return `${sections.map((section) => section.trimEnd()).join("\n\n")}\n`;
}

/** A file name for the export, e.g. "kumpul-notes-2024-07-23.md". */
export function exportFileName(now: Date = new Date()): string {
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  return `kumpul-notes-${day}.md`;
}

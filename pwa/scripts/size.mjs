// Prints the compressed size of the app shell (index.html plus the JS and CSS it loads for the
// first screen), of any lazy chunks and of the organisers' console (never loaded by attendees);
// fails when the shell exceeds the 60 KB budget.
import { readFileSync, readdirSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const BUDGET = 60 * 1024;
const dist = new URL("../dist/", import.meta.url);
const html = readFileSync(new URL("index.html", dist), "utf8");
const shell = ["index.html", ...[...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((match) => match[1])];
// What only the console's entry loads, from Vite's build manifest (as vite.config.ts finds it for the precache list).
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
function reachable(entry, files = new Set(), seen = new Set()) {
  const chunk = manifest[entry];
  if (!chunk || seen.has(entry)) return files;
  seen.add(entry);
  for (const file of [chunk.file, ...(chunk.css ?? []), ...(chunk.assets ?? [])]) files.add(file);
  for (const next of [...(chunk.imports ?? []), ...(chunk.dynamicImports ?? [])]) reachable(next, files, seen);
  return files;
}
const attendee = reachable("index.html");
const consoleFiles = [...reachable("admin.html")].filter((path) => !attendee.has(path)).sort();
const lazy = readdirSync(new URL("assets/", dist))
  .map((name) => `assets/${name}`)
  .filter((path) => !shell.includes(path) && !consoleFiles.includes(path) && /\.(js|css)$/.test(path));

function sizes(path) {
  const bytes = readFileSync(new URL(path, dist));
  return {
    path,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const kb = (n) => `${(n / 1024).toFixed(1).padStart(6)} KB`;
function table(title, rows) {
  console.log(`\n${title}`);
  console.log(`${"file".padEnd(40)}${"raw".padStart(10)}${"gzip".padStart(10)}${"brotli".padStart(10)}`);
  for (const row of rows) console.log(`${row.path.padEnd(40)}${kb(row.raw)}${kb(row.gzip)}${kb(row.brotli)}`);
  const total = rows.reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
  });
  console.log(`${"total".padEnd(40)}${kb(total.raw)}${kb(total.gzip)}${kb(total.brotli)}`);
  return total;
}

const total = table("Shell (first screen)", shell.map(sizes));
if (lazy.length) table("Lazy chunks", lazy.map(sizes));
table("Organisers' console (admin.html; not precached, never loaded by attendees)", ["admin.html", ...consoleFiles].map(sizes));
table("Service worker", [sizes("sw.js")]);
const verdict = total.gzip <= BUDGET ? "within" : "OVER";
console.log(`\nShell: ${(total.gzip / 1024).toFixed(1)} KB gzip, ${(total.brotli / 1024).toFixed(1)} KB brotli — ${verdict} the 60 KB budget.`);
process.exit(total.gzip <= BUDGET ? 0 : 1);

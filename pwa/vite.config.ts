/**
 * Builds two pages into dist/: the attendee app (index.html) and the organisers' console
 * (admin.html), then the service worker into dist/sw.js with the list of files to precache (each
 * with a content revision) written into it. The console is never precached: Vite's build manifest
 * tells which chunks, stylesheets and assets only the console's entry reaches.
 */

import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build, type Manifest, type Plugin } from "vite";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const outDir = resolve(root, "dist");
/** Files that are never precached: the worker itself and what only development needs. */
const NOT_PRECACHED = [/^sw\.js$/, /\.map$/, /^\.vite\//];
/** The pages of the build: the attendee app, and the console that the service worker leaves alone. */
const PAGES = { index: resolve(root, "index.html"), admin: resolve(root, "admin.html") };
const MANIFEST = ".vite/manifest.json";

/** Every output file an entry of Vite's build manifest loads: its chunk, CSS, assets and imports, static and dynamic. */
export function reachable(manifest: Manifest, entry: string): Set<string> {
  const files = new Set<string>();
  const seen = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || seen.has(key)) return;
    seen.add(key);
    files.add(chunk.file);
    for (const file of [...(chunk.css ?? []), ...(chunk.assets ?? [])]) files.add(file);
    for (const next of [...(chunk.imports ?? []), ...(chunk.dynamicImports ?? [])]) visit(next);
  };
  visit(entry);
  return files;
}

/** The console's page and every file only it loads (files it shares with the attendee app stay precached). */
export function consoleOnly(manifest: Manifest): Set<string> {
  if (!manifest["admin.html"] || !manifest["index.html"]) throw new Error(`${MANIFEST} lacks the index.html or admin.html entry`);
  const attendee = reachable(manifest, "index.html");
  return new Set(["admin.html", ...[...reachable(manifest, "admin.html")].filter((file) => !attendee.has(file))]);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Every built file of the attendee app with a revision: the hash of its content. */
async function precacheManifest(): Promise<{ url: string; revision: string }[]> {
  const consoleFiles = consoleOnly(JSON.parse(await readFile(resolve(outDir, MANIFEST), "utf8")) as Manifest);
  const manifest = [];
  for (const file of (await listFiles(outDir)).sort()) {
    const path = relative(outDir, file).split("\\").join("/");
    if (NOT_PRECACHED.some((pattern) => pattern.test(path)) || consoleFiles.has(path)) continue;
    const revision = createHash("sha256").update(await readFile(file)).digest("hex").slice(0, 16);
    manifest.push({ url: `/${path}`, revision });
  }
  return manifest;
}

function serviceWorker(): Plugin {
  return {
    name: "kumpul-service-worker",
    apply: "build",
    async closeBundle() {
      const manifest = await precacheManifest();
      await build({
        configFile: false,
        logLevel: "warn",
        define: {
          "self.__WB_MANIFEST": JSON.stringify(manifest),
          "process.env.NODE_ENV": JSON.stringify("production"),
        },
        build: {
          outDir,
          emptyOutDir: false,
          copyPublicDir: false,
          target: "es2022",
          minify: true,
          lib: {
            entry: resolve(root, "src/sw/sw.ts"),
            formats: ["iife"],
            name: "kumpulServiceWorker",
            fileName: () => "sw.js",
          },
        },
      });
    },
  };
}

export default defineConfig({
  root,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    manifest: MANIFEST,
    rolldownOptions: { input: PAGES },
  },
  // `npm run dev` talks to a Kumpul server running on the default port (the console at /admin.html).
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  plugins: [serviceWorker()],
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts"],
  },
});

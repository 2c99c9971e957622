/**
 * Builds the attendee app into dist/, then the service worker into dist/sw.js with the list of
 * files to precache (each with a content revision) written into it.
 */

import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build, type Plugin } from "vite";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const outDir = resolve(root, "dist");
/** Files that are never precached: the worker itself and what only development needs. */
const NOT_PRECACHED = [/^sw\.js$/, /\.map$/, /^\.vite\//];

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Every built file with a revision: the hash of its content. */
async function precacheManifest(): Promise<{ url: string; revision: string }[]> {
  const manifest = [];
  for (const file of (await listFiles(outDir)).sort()) {
    const path = relative(outDir, file).split("\\").join("/");
    if (NOT_PRECACHED.some((pattern) => pattern.test(path))) continue;
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
  },
  // `npm run dev` talks to a Kumpul server running on the default port.
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  plugins: [serviceWorker()],
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts"],
  },
});

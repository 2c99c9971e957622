import { describe, expect, it } from "vitest";
import type { Manifest } from "vite";

import { consoleOnly, reachable } from "../../vite.config";

const manifest: Manifest = {
  "index.html": { file: "assets/index-1.js", src: "index.html", isEntry: true, imports: ["_shared-1.js"], dynamicImports: ["src/app/views/notes.tsx"], css: ["assets/index-1.css"] },
  "admin.html": { file: "assets/admin-1.js", src: "admin.html", isEntry: true, imports: ["_shared-1.js"], dynamicImports: ["src/admin/lazy.tsx"], css: ["assets/admin-1.css"] },
  "_shared-1.js": { file: "assets/shared-1.js", css: ["assets/shared-1.css"] },
  "src/app/views/notes.tsx": { file: "assets/notes-1.js", isDynamicEntry: true, imports: ["index.html"] },
  "src/admin/lazy.tsx": { file: "assets/lazy-1.js", isDynamicEntry: true, imports: ["admin.html"], assets: ["assets/chart-1.svg"] },
};

describe("what the attendee service worker may precache", () => {
  it("follows static and dynamic imports, CSS and assets", () => {
    expect([...reachable(manifest, "index.html")].sort()).toEqual(["assets/index-1.css", "assets/index-1.js", "assets/notes-1.js", "assets/shared-1.css", "assets/shared-1.js"]);
  });

  it("leaves out the console page and every file only it loads, keeping shared ones", () => {
    expect([...consoleOnly(manifest)].sort()).toEqual(["admin.html", "assets/admin-1.css", "assets/admin-1.js", "assets/chart-1.svg", "assets/lazy-1.js"]);
  });

  it("refuses a manifest without both pages", () => {
    expect(() => consoleOnly({ "index.html": manifest["index.html"]! })).toThrow(/admin\.html/);
  });
});

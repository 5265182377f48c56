#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/, which bin/lethe.js runs. Why: loading
// ~600 separate ES modules (lethe's own, Kysely's, zod's) cost ~0.5 s of CPU at every CLI start; one
// file loads in a fraction of that. Run by `npm run build`, after tsc.
//
// Inlined: the pure-JS libraries every command loads. External: native addons and the heavy
// libraries loaded lazily for one kind of store or for `serve` (they stay in node_modules, where
// their own relative files and assets are). dist/bundle is one level below dist/, like dist/core,
// so src/core/package-file.ts resolves shipped files (workers, dashboard, package.json) the same
// from the bundle as from the compiled tree.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const INLINE = new Set(["kysely", "zod", "yaml", "commander", "croner", "picomatch", "pg-connection-string"]);

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "dist", "bundle");
rmSync(out, { recursive: true, force: true });

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(id) {
  const parts = id.split("/");
  return id.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

await build({
  input: join(root, "dist", "cli", "main.js"),
  platform: "node",
  external: (id) => {
    if (id.startsWith("node:")) return true;
    if (id.startsWith(".") || id.startsWith("/") || id.startsWith("\0")) return false;
    return !INLINE.has(packageName(id));
  },
  logLevel: "warn",
  output: {
    dir: out,
    format: "esm",
    // Error classes and codes are reported by name; renaming on collision would change them.
    keepNames: true,
    entryFileNames: "lethe.js",
    chunkFileNames: "chunk-[name]-[hash].js",
  },
});

#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/, which bin/lethe.js runs, and each worker
// thread's entry into one file in place. Why: loading ~600 separate ES modules (lethe's own, Kysely's,
// zod's) cost ~0.5 s of CPU at every CLI start and ~0.15 s at every worker start; one file loads in a
// fraction of that. Run by `npm run build`, after tsc.
//
// Inlined: the pure-JS libraries every command loads. External: native addons and the heavy
// libraries loaded lazily for one kind of store or for `serve` (they stay in node_modules, where
// their own relative files and assets are). dist/bundle is one level below dist/, like dist/core,
// so src/core/package-file.ts resolves shipped files (workers, dashboard, package.json) the same
// from the bundle as from the compiled tree; a worker's bundle replaces its compiled file at the
// same path, so it resolves them the same too.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "rolldown";

const INLINE = new Set(["kysely", "zod", "yaml", "commander", "croner", "picomatch"]);

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// The one list of worker entries, from the compiled tree tsc just wrote.
const { WORKER_FILES } = await import(pathToFileURL(join(root, "dist", "core", "package-file.js")).href);
const dist = join(root, "dist");
const out = join(dist, "bundle");
rmSync(out, { recursive: true, force: true });

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(id) {
  const parts = id.split("/");
  return id.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function external(id) {
  if (id.startsWith("node:")) return true;
  if (id.startsWith(".") || id.startsWith("/") || id.startsWith("\0")) return false;
  return !INLINE.has(packageName(id));
}

await build({
  input: join(dist, "cli", "main.js"),
  platform: "node",
  external,
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

// A worker is started by file path, so its bundle must be one file: dynamic imports are inlined.
for (const worker of WORKER_FILES) {
  const file = join(dist, worker);
  await build({
    input: file,
    platform: "node",
    external,
    logLevel: "warn",
    output: { file, format: "esm", keepNames: true, codeSplitting: false },
  });
}

#!/usr/bin/env node
// Usage: node scripts/build.mjs [--force]
// `npm run build`: tsc → dist/, the dashboard's static files, then the bundled CLI and workers
// (scripts/bundle-cli.mjs). Skipped when dist/ was built from exactly the current inputs: `npm ci`
// runs it (prepare) and `npm test` runs it again, and each full build costs ~14 s of a 2-core
// machine. The inputs are hashed, not compared by mtime, so a checkout, a rebase or a switch
// between worktrees can never leave a stale dist/ looking fresh. A build that does run starts
// from an empty dist/: the bundler replaces compiled worker files in place, so building over an
// old dist/ could bundle a worker from a stale compiled file.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, "dist");
const stampFile = join(dist, ".build-stamp");
// Everything that decides what lands in dist/ (package-lock: the bundle inlines dependencies).
const INPUTS = [
  "src",
  "scripts/build.mjs",
  "scripts/bundle-cli.mjs",
  "scripts/copy-dashboard.mjs",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
];

/** The input files, sorted, so the hash does not depend on readdir order; a missing input hashes as absent. */
function inputFiles() {
  const out = [];
  for (const input of INPUTS) {
    const abs = join(root, input);
    if (!existsSync(abs)) continue;
    if (!statSync(abs).isDirectory()) {
      out.push(input);
      continue;
    }
    for (const e of readdirSync(abs, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)));
    }
  }
  return out.sort();
}

function inputHash() {
  const hash = createHash("sha256").update(`node ${process.version}\n`);
  for (const file of inputFiles())
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const stamp = inputHash();
const force = process.argv.includes("--force");
if (!force && existsSync(join(dist, "bundle", "lethe.js")) && existsSync(stampFile)) {
  if (readFileSync(stampFile, "utf8").trim() === stamp) {
    process.stderr.write("build: dist/ is up to date with src/ (npm run build -- --force rebuilds)\n");
    process.exit(0);
  }
}
rmSync(dist, { recursive: true, force: true });
run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"]);
run(process.execPath, [join(root, "scripts", "copy-dashboard.mjs")]);
run(process.execPath, [join(root, "scripts", "bundle-cli.mjs")]);
// Written last: an interrupted build leaves no stamp, so the next one starts over.
writeFileSync(stampFile, `${stamp}\n`);

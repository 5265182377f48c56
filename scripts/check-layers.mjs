#!/usr/bin/env node
// The layer rules Biome cannot express, checked on every `npm run lint` (exit 1 and one line per breach):
//  1. core, the executor and config know no driver: nothing under src/core, src/executor or src/config imports
//     src/stores (config is read before any driver exists; what both need, like Redis glob syntax, lives in config).
//  2. The ledger's append side (src/ledger/ledger.ts, the Ledger class) is imported only by src/ledger, the
//     executor, the composition root (src/lethe.ts) and the CLI/server read paths; everything else records
//     through the Executor.
//  3. Deletions and run boundaries are spelled only in src/executor (and src/ledger, which defines them): no
//     other source file writes an entry with action deleted, shredded, held, run_started or run_finished.
// Run: node scripts/check-layers.mjs
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, "src");

const LEDGER_APPEND = "src/ledger/ledger.ts";
const MAY_APPEND = ["src/ledger/", "src/executor/", "src/lethe.ts", "src/cli/", "src/server/"];
const NO_DRIVERS = ["src/core/", "src/executor/", "src/config/"];
const EXECUTOR_ACTIONS = /action:\s*"(deleted|shredded|held|run_started|run_finished)"/;
const MAY_SPELL_ACTIONS = ["src/executor/", "src/ledger/"];

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

const importRe = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;
const problems = [];
for (const file of files(src)) {
  const rel = relative(root, file).split("\\").join("/");
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith(".")) continue;
    const target = relative(root, resolve(dirname(file), spec))
      .split("\\")
      .join("/")
      .replace(/\.js$/, ".ts");
    if (NO_DRIVERS.some((p) => rel.startsWith(p)) && target.startsWith("src/stores/"))
      problems.push(`${rel}: imports ${target}: core, the executor and config know no store driver`);
    if (target === LEDGER_APPEND && !MAY_APPEND.some((p) => rel.startsWith(p)))
      problems.push(`${rel}: imports the ledger's append side; record through the Executor (src/executor)`);
  }
  if (!MAY_SPELL_ACTIONS.some((p) => rel.startsWith(p))) {
    const line = text.split("\n").findIndex((l) => EXECUTOR_ACTIONS.test(l));
    if (line >= 0)
      problems.push(
        `${rel}:${line + 1}: writes a deletion or run entry; only src/executor does (deleteBatch, withRun)`,
      );
  }
}
for (const p of problems) process.stderr.write(`check-layers: ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);

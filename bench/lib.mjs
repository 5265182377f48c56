// Shared helpers for the benchmarks: timing child processes and reporting.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(ROOT, "bin", "lethe.js");
const RSS = join(ROOT, "bench", "rss-report.mjs");

export function workDir(prefix) {
  return mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), prefix));
}

/** Runs a command, returns wall seconds and the child's peak RSS (MiB) when it is node. */
export function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 30, ...opts });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  const m = /lethe-bench-rss=(\d+)/.exec(r.stderr ?? "");
  return { seconds, rssMiB: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout, stderr: r.stderr };
}

/** `lethe …` in a child node process that reports its peak RSS. */
export function lethe(args, cwd) {
  return timed(process.execPath, ["--import", RSS, BIN, ...args], { cwd });
}

/**
 * Prints one measured part to stderr as soon as it ends, so a long run (10M rows) that is stopped later still leaves
 * its numbers; returns the part unchanged.
 */
export function progress(label, result) {
  process.stderr.write(`bench: ${label} ${JSON.stringify(result)}\n`);
  return result;
}

export function fmt(n, digits = 2) {
  return Number(n).toFixed(digits);
}

export function table(header, rows) {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** fsync, synchronous_commit and full-page writes on for the whole cluster (the test harness starts it with them off). */
export async function durable(admin, on) {
  for (const [k, v] of [
    ["fsync", on],
    ["synchronous_commit", on],
    ["full_page_writes", on],
  ])
    await admin.query(`alter system set ${k} = ${v ? "on" : "off"}`);
  await admin.query("select pg_reload_conf()");
}

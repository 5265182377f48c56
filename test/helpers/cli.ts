import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const LETHE_BIN = resolve(import.meta.dirname, "../../bin/lethe.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: unknown;
}

function parseJson(args: string[], stdout: string): unknown {
  if (!args.includes("--json")) return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

/** Runs the built CLI (npm run build first) as a real process. */
export function lethe(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [LETHE_BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 512 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: parseJson(args, r.stdout) };
}

/**
 * {@link lethe} without blocking the test process, so commands that do not depend on each other can run side by
 * side as real processes. Killed (code -1) if it runs longer than two minutes.
 * @example const [a, b] = await Promise.all([letheSpawn(["audit", "verify"], dir), letheSpawn(["token", "list"], dir)]);
 */
export function letheSpawn(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [LETHE_BIN, ...args], { cwd, env: { ...process.env, ...env } });
    const out = { stdout: "", stderr: "" };
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out.stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (out.stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
    p.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, ...out, json: parseJson(args, out.stdout) });
    });
  });
}

let inProcessBusy = false;

/**
 * Runs a CLI command in this test process, without spawning one: the same code path as the real CLI
 * (`runCli`, which main.ts calls), with the working directory, environment, stdout and stderr swapped for the
 * call. For tests where the process boundary is not what is tested; exit codes, signals and kill -9 keep
 * using {@link lethe}. Calls must not overlap (they share the process's cwd and streams).
 */
export async function letheIn(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  if (inProcessBusy) throw new Error("letheIn: calls must not overlap");
  inProcessBusy = true;
  const { runCli } = await import("../../src/cli/run.js");
  const out = { stdout: "", stderr: "" };
  const capture = (key: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
      out[key] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const done = typeof enc === "function" ? enc : cb;
      if (typeof done === "function") done();
      return true;
    }) as typeof process.stdout.write;
  const saved = { cwd: process.cwd(), out: process.stdout.write, err: process.stderr.write };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  let code: number;
  try {
    process.chdir(cwd);
    Object.assign(process.env, env);
    process.stdout.write = capture("stdout");
    process.stderr.write = capture("stderr");
    code = await runCli([process.execPath, LETHE_BIN, ...args]);
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.chdir(saved.cwd);
    inProcessBusy = false;
  }
  return { code, stdout: out.stdout, stderr: out.stderr, json: parseJson(args, out.stdout) };
}

/**
 * Every line of `lethe audit export --format jsonl` (in process), parsed: the ledger entries and, after each
 * `deleted` batch entry, one line per item.
 * @example const deleted = (await auditExport<{ action: string; item?: number }>(dir)).filter((e) => e.item !== undefined);
 */
export async function auditExport<T = Record<string, unknown>>(dir: string): Promise<T[]> {
  const r = await letheIn(["audit", "export", "--format", "jsonl"], dir);
  if (r.code !== 0) throw new Error(`audit export exited ${r.code}: ${r.stderr}`);
  const out = r.stdout.trim();
  return out ? out.split("\n").map((l) => JSON.parse(l) as T) : [];
}

/** Starts the CLI without waiting (for kill -9 tests). */
export function letheAsync(args: string[], cwd: string) {
  return spawn(process.execPath, [LETHE_BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

export function tempDir(prefix = "lethe-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string): string {
  const p = join(dir, "lethe.yaml");
  writeFileSync(p, yaml);
  return p;
}

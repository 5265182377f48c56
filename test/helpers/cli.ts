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

/** Runs the built CLI (npm run build first) as a real process. */
export function lethe(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [LETHE_BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 512 * 1024 * 1024,
  });
  let json: unknown;
  if (args.includes("--json")) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
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

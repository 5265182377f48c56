import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LETHE_BIN, tempDir, writeConfig } from "../helpers/cli.js";
import { touch } from "../helpers/project.js";

// Root reads every directory, so as root the CLI runs as `nobody` (setpriv) to meet a real EACCES.
const asRoot = process.getuid?.() === 0;
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

function run(args: string[], cwd: string) {
  const cmd = asRoot ? "setpriv" : process.execPath;
  const argv = asRoot ? [...NOBODY, process.execPath, LETHE_BIN, ...args] : [LETHE_BIN, ...args];
  return spawnSync(cmd, argv, { cwd, encoding: "utf8", env: { ...process.env, HOME: cwd } });
}

/**
 * A project `nobody` can work in: every directory 0777, the config readable,
 * the given files old enough to expire, and `locked` (relative) made unreadable.
 */
function project(config: string, files: string[], locked: string) {
  const dir = tempDir();
  chmodSync(dir, 0o777);
  for (const f of files) {
    const parts = f.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = join(dir, ...parts.slice(0, i));
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o777);
    }
    touch(join(dir, f), 100);
  }
  writeConfig(dir, config);
  chmodSync(join(dir, "lethe.yaml"), 0o644);
  chmodSync(join(dir, locked), 0o000);
  return { dir, unlock: () => chmodSync(join(dir, locked), 0o755) };
}

/** As root the test needs setpriv (util-linux) and a CLI that `nobody` can read: a failure, never a skip. */
function canRunAsNobody(): void {
  const r = run(["--version"], "/");
  if (r.status !== 0) throw new Error(`cannot run the CLI as nobody (setpriv): ${r.stderr || r.error}`);
}

describe("an fs root with a directory lethe cannot read", () => {
  it("is reported as a failure (exit 1), not as a clean run that found nothing there", () => {
    canRunAsNobody();
    const p = project(
      `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  models: { kind: fs, root: ./models }
datasets:
  ckpt: { store: models, include: ["**/*.pt"], retention: 30d }
`,
      ["models/ok/a.pt", "models/locked/b.pt"],
      "models/locked",
    );
    const r = run(["apply", "--json"], p.dir);
    p.unlock();
    expect(r.status, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as {
      datasets: { deleted: number; failed: number; failures: { reason: string }[] }[];
    };
    expect(json.datasets[0]).toMatchObject({ deleted: 1, failed: 1 });
    expect(json.datasets[0]?.failures[0]?.reason).toMatch(/directory could not be read: EACCES/);
  });

  it("an erasure that cannot read the subject's directory fails (exit 1) instead of reporting the subject gone", () => {
    canRunAsNobody();
    const p = project(
      `version: 1
state: ./.lethe
stores:
  files: { kind: fs, root: ./data }
datasets:
  uploads: { store: files, include: ["users/**"], subjectFromPath: "users/{subject}/**", retention: 30d }
`,
      ["data/users/carol-x/scan.bin"],
      "data/users/carol-x",
    );
    const r = run(["erase", "carol-x", "--yes", "--json"], p.dir);
    p.unlock();
    expect(r.status, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as { failed: number; datasets: { failures: { reason: string }[] }[] };
    expect(json.failed).toBeGreaterThan(0);
    expect(json.datasets[0]?.failures[0]?.reason).toMatch(/directory could not be read: EACCES/);
  });

  it("discover reports a directory it cannot read (exit 1), masked, instead of calling the store inspected and clean", () => {
    canRunAsNobody();
    const p = project(
      `version: 1
state: ./.lethe
stores:
  files: { kind: fs, root: ./data }
datasets: {}
`,
      ["data/ok/a.bin", "data/exports/tina.planted@example.com/b.txt"],
      "data/exports/tina.planted@example.com",
    );
    const r = run(["discover", "--json"], p.dir);
    p.unlock();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout + r.stderr).not.toContain("tina");
    const json = JSON.parse(r.stdout) as { unmapped: { table: string; column: string; reason: string }[] };
    expect(json.unmapped).toEqual([
      {
        store: "files",
        table: "exports/[EMAIL]",
        column: "(unreadable)",
        reason: "files no dataset covers; 1 directory could not be read (EACCES): the files in it were not inspected",
      },
    ]);
  });
});

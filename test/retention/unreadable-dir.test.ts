import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
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

describe("an fs root with a directory lethe cannot read", () => {
  it("is reported as a failure (exit 1), not as a clean run that found nothing there", (ctx) => {
    if (asRoot && run(["--version"], "/").status !== 0) ctx.skip("cannot run the CLI as nobody here (setpriv)");
    const dir = tempDir();
    chmodSync(dir, 0o777);
    const models = join(dir, "models");
    for (const d of ["ok", "locked"]) mkdirSync(join(models, d), { recursive: true, mode: 0o777 });
    chmodSync(models, 0o777);
    chmodSync(join(models, "ok"), 0o777);
    touch(join(models, "ok", "a.pt"), 100);
    touch(join(models, "locked", "b.pt"), 100);
    chmodSync(join(models, "locked"), 0o000);
    writeConfig(
      dir,
      `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  models: { kind: fs, root: ./models }
datasets:
  ckpt: { store: models, include: ["**/*.pt"], retention: 30d }
`,
    );
    chmodSync(join(dir, "lethe.yaml"), 0o644);
    writeFileSync(join(dir, ".keep"), "");
    const r = run(["apply", "--json"], dir);
    chmodSync(join(models, "locked"), 0o755);
    expect(r.status, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as {
      datasets: { deleted: number; failed: number; failures: { reason: string }[] }[];
    };
    expect(json.datasets[0]).toMatchObject({ deleted: 1, failed: 1 });
    expect(json.datasets[0]?.failures[0]?.reason).toMatch(/directory could not be read: EACCES/);
  });

  it("an erasure that cannot read the subject's directory fails (exit 1) instead of reporting the subject gone", (ctx) => {
    if (asRoot && run(["--version"], "/").status !== 0) ctx.skip("cannot run the CLI as nobody here (setpriv)");
    const dir = tempDir();
    chmodSync(dir, 0o777);
    const users = join(dir, "data", "users");
    mkdirSync(join(users, "carol-x"), { recursive: true });
    for (const d of [join(dir, "data"), users]) chmodSync(d, 0o777);
    touch(join(users, "carol-x", "scan.bin"), 1);
    chmodSync(join(users, "carol-x"), 0o000);
    writeConfig(
      dir,
      `version: 1
state: ./.lethe
stores:
  files: { kind: fs, root: ./data }
datasets:
  uploads: { store: files, include: ["users/**"], subjectFromPath: "users/{subject}/**", retention: 30d }
`,
    );
    chmodSync(join(dir, "lethe.yaml"), 0o644);
    const r = run(["erase", "carol-x", "--yes", "--json"], dir);
    chmodSync(join(users, "carol-x"), 0o755);
    expect(r.status, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as { failed: number; datasets: { failures: { reason: string }[] }[] };
    expect(json.failed).toBeGreaterThan(0);
    expect(json.datasets[0]?.failures[0]?.reason).toMatch(/directory could not be read: EACCES/);
  });
});

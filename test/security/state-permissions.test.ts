import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LETHE_BIN, tempDir, writeConfig } from "../helpers/cli.js";

const CONFIG = `version: 1
state: ./state
stores:
  models: { kind: fs, root: ./models }
datasets:
  weights: { store: models, include: ["**/*.pt"], retention: 1d }
`;

/** Runs the real CLI under umask 022, the common default that made state files 0644. */
function run(dir: string, args: string[]) {
  const r = spawnSync("sh", ["-c", `umask 022; exec "$0" "$@"`, process.execPath, LETHE_BIN, ...args], {
    cwd: dir,
    encoding: "utf8",
  });
  return { code: r.status, stderr: r.stderr };
}

const modeOf = (p: string) => statSync(p).mode & 0o777;

function project(): string {
  const dir = tempDir();
  writeConfig(dir, CONFIG);
  mkdirSync(join(dir, "models"));
  writeFileSync(join(dir, "models", "a.pt"), "x");
  return dir;
}

describe("state files are private (issue 10 item 8)", () => {
  it("a fresh state: folder 0700, state.db, -wal, -shm and master.key 0600 under umask 022", () => {
    const dir = project();
    expect(run(dir, ["apply"]).code).toBe(0);
    const state = join(dir, "state");
    expect(modeOf(state)).toBe(0o700);
    const files = readdirSync(state);
    expect(files).toEqual(expect.arrayContaining(["state.db", "master.key"]));
    for (const f of files) expect([f, modeOf(join(state, f))]).toEqual([f, 0o600]);
  });

  it("an existing 0755 folder with 0644 files is tightened, with a warning", () => {
    const dir = project();
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o755 });
    chmodSync(state, 0o755);
    writeFileSync(join(state, "state.db"), "");
    chmodSync(join(state, "state.db"), 0o644);
    writeFileSync(join(state, "state.db-wal"), "");
    chmodSync(join(state, "state.db-wal"), 0o644);
    const r = run(dir, ["apply"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("state folder was mode 755, readable by others; changed to 700");
    expect(modeOf(state)).toBe(0o700);
    for (const f of readdirSync(state)) expect([f, modeOf(join(state, f))]).toEqual([f, 0o600]);
    // Already private: no warning the next time.
    expect(run(dir, ["apply"]).stderr).not.toContain("state folder was mode");
  });
});

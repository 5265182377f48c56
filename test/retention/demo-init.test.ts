import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { letheIn, tempDir } from "../helpers/cli.js";

describe("lethe demo", () => {
  it("builds the sample data set and runs plan → apply → audit verify end to end", async () => {
    const dir = join(tempDir(), "demo");
    const r = await letheIn(["demo", "--dir", dir], process.cwd());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\. plan/);
    expect(r.stdout).toMatch(/audit verify: OK/);
    expect(r.stdout).toMatch(/erase user-7 .*\n(.*\n)*.*residue after re-checking every dataset: 0/);
    // The configs and READMEs beside the checkpoints survive; expired checkpoints do not.
    expect(r.stdout).toMatch(/16 of 16 untouched/);
    // A deleted row's per-item proof is made and checked offline (issue 9 item 5).
    expect(r.stdout).toMatch(
      /6\. per-item proof: deleted row inference_logs #\d+ is item \d+ of ledger entry #\d+ \(one entry per batch\);\n[^\n]*Merkle root[^\n]*\n[^\n]*public key alone: OK/,
    );
    const runs = readdirSync(join(dir, "data", "models", "checkpoints"));
    for (const run of runs) {
      expect(existsSync(join(dir, "data", "models", "checkpoints", run, "config.json"))).toBe(true);
      expect(existsSync(join(dir, "data", "models", "checkpoints", run, "README.md"))).toBe(true);
    }
    expect(existsSync(join(dir, "data", "models", "checkpoints", "run-8", "model.pt"))).toBe(false);
    expect(existsSync(join(dir, "data", "models", "checkpoints", "run-1", "model.pt"))).toBe(true);
    // The demo leaves a working project: the ledger verifies from the CLI too.
    expect((await letheIn(["audit", "verify", "--json"], dir)).json).toMatchObject({ ok: true });
    // Nothing expired is left.
    const plan = (await letheIn(["plan", "--json"], dir)).json as { datasets: { expired: number }[] };
    expect(plan.datasets.every((d) => d.expired === 0)).toBe(true);
  });

  it("refuses a folder that is not empty", async () => {
    const dir = tempDir();
    await letheIn(["init"], dir);
    expect((await letheIn(["demo", "--dir", dir], process.cwd())).code).toBe(2);
  });
});

describe("lethe init", () => {
  it("writes a commented, valid starter config and never overwrites it", async () => {
    const dir = tempDir();
    expect((await letheIn(["init"], dir)).code).toBe(0);
    const text = readFileSync(join(dir, "lethe.yaml"), "utf8");
    expect(text).toMatch(/^# /m);
    expect(() => parseConfig(parse(text), dir)).not.toThrow();
    const again = await letheIn(["init"], dir);
    expect(again.code).toBe(2);
    expect(readFileSync(join(dir, "lethe.yaml"), "utf8")).toBe(text);
  });
});

describe("lethe --version", () => {
  it("prints the package version and exits 0", async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    const r = await letheIn(["--version"], tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { addTraining, makeProject, touch } from "../helpers/project.js";

interface ApplyJson {
  datasets: { name: string; deleted: number; failed: number; filesRemoved: number; failures: { reason: string }[] }[];
}

describe("fs datasets on a hostile tree", () => {
  let root: string;
  let outside: string;
  let dir: string;
  let result: CliResult;
  beforeAll(async () => {
    dir = tempDir();
    root = join(dir, "models");
    outside = join(dir, "outside");
    touch(join(outside, "victim.pt"), 400, "outside file");
    touch(join(outside, "dir", "deep.pt"), 400, "outside dir file");
    touch(join(root, "ckpt", "old.pt"), 90);
    touch(join(root, "ckpt", "new.pt"), 1);
    touch(join(root, "ckpt", "config.json"), 400);
    touch(join(root, "ckpt", "README.md"), 400);
    touch(join(root, "ckpt", "sub", "old.onnx"), 90);
    // Links out of the root: to a directory and to a file, both very old targets.
    symlinkSync(join(outside, "dir"), join(root, "ckpt", "linkdir"));
    symlinkSync(join(outside, "victim.pt"), join(root, "ckpt", "link.pt"));
    // A hard-linked checkpoint: shredding it would destroy the other name's bytes.
    touch(join(root, "ckpt", "hard.pt"), 90, "hard linked");
    linkSync(join(root, "ckpt", "hard.pt"), join(outside, "hard-other-name.pt"));
    const t = new Date(Date.now() - 90 * 86_400_000);
    utimesSync(join(root, "ckpt", "hard.pt"), t, t);
    writeConfig(
      dir,
      `version: 1
stores:
  models: { kind: fs, root: ./models }
datasets:
  checkpoints: { store: models, include: ["ckpt/**/*.{pt,onnx}"], retention: 60d, action: shred }
`,
    );
    result = await letheIn(["apply", "--json", "--force"], dir);
  });

  it("deletes only matched, expired regular files inside the root", async () => {
    expect(existsSync(join(root, "ckpt", "old.pt"))).toBe(false);
    expect(existsSync(join(root, "ckpt", "sub", "old.onnx"))).toBe(false);
    expect(existsSync(join(root, "ckpt", "new.pt"))).toBe(true);
    expect(existsSync(join(root, "ckpt", "config.json"))).toBe(true);
    expect(existsSync(join(root, "ckpt", "README.md"))).toBe(true);
    expect(existsSync(join(root, "ckpt", "sub"))).toBe(true); // directories stay
  });

  it("never follows a symlink out of the root", async () => {
    expect(readFileSync(join(outside, "victim.pt"), "utf8")).toBe("outside file");
    expect(readFileSync(join(outside, "dir", "deep.pt"), "utf8")).toBe("outside dir file");
    expect(existsSync(join(root, "ckpt", "link.pt"))).toBe(true);
  });

  it("refuses to shred a file with more than one hard link, and says so", async () => {
    expect(readFileSync(join(outside, "hard-other-name.pt"), "utf8")).toBe("hard linked");
    expect(result.code).toBe(1);
    const ds = (result.json as ApplyJson).datasets[0];
    expect(ds?.deleted).toBe(2);
    expect(ds?.failed).toBe(1);
    expect(ds?.failures[0]?.reason).toMatch(/hard links/);
  });
});

describe("row-linked files", () => {
  it("deletes a row's file with the row, but never a path outside the store root", async () => {
    const p = makeProject({ logs: 2 });
    const secret = join(p.dir, "secret.txt");
    writeFileSync(secret, "do not touch");
    mkdirSync(join(p.dir, "elsewhere"), { recursive: true });
    writeFileSync(join(p.dir, "elsewhere", "abs.bin"), "abs");
    addTraining(p, 1, "training/a.npz", { ageDays: 100 });
    addTraining(p, 2, "../secret.txt", { ageDays: 100, createFile: false });
    addTraining(p, 3, join(p.dir, "elsewhere", "abs.bin"), { ageDays: 100, createFile: false });
    addTraining(p, 4, "training/b.npz", { ageDays: 10 });
    addTraining(p, 5, "training/gone.npz", { ageDays: 100, createFile: false });
    symlinkSync(secret, join(p.models, "training", "link.npz"));
    addTraining(p, 6, "training/link.npz", { ageDays: 100, createFile: false });
    const r = await letheIn(["apply", "--json", "--force"], p.dir);
    expect(readFileSync(secret, "utf8")).toBe("do not touch");
    expect(readFileSync(join(p.dir, "elsewhere", "abs.bin"), "utf8")).toBe("abs");
    expect(existsSync(join(p.models, "training", "a.npz"))).toBe(false);
    expect(existsSync(join(p.models, "training", "b.npz"))).toBe(true);
    const training = (r.json as ApplyJson).datasets.find((d) => d.name === "training");
    expect(training).toMatchObject({ deleted: 5, filesRemoved: 1, failed: 3 });
    expect(training?.failures.map((f) => f.reason).join("\n")).toMatch(/outside/);
    expect(training?.failures.map((f) => f.reason).join("\n")).toMatch(/symbolic link/);
    expect(r.code).toBe(1);
    // The refusals are on the ledger as failures.
    const log = await letheIn(["audit", "log", "--dataset", "training", "--key", "2", "--json"], p.dir);
    const actions = (log.json as { entries: { action: string; reason?: string }[] }).entries.map((e) => e.action);
    expect(actions).toEqual(["deleted", "failed"]);
  });
});

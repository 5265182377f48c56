import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lethe } from "../helpers/cli.js";
import { addTraining, ids, makeProject } from "../helpers/project.js";

// Rows of training (user-<id % 5>) can point at the same file; a file is removed only with its last row.
describe("a linked file that several rows share", () => {
  it("stays while a fresh row still points at it; goes with the last row, recorded once", () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 1, "shared/a.bin", { ageDays: 100 }); // expired (90 d)
    addTraining(p, 2, "shared/a.bin", { ageDays: 5, createFile: false }); // fresh, same file
    addTraining(p, 3, "shared/b.bin", { ageDays: 100 });
    addTraining(p, 4, "shared/b.bin", { ageDays: 100, createFile: false }); // both expired: one file
    const r = lethe(["apply", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([2]);
    expect(existsSync(join(p.models, "shared/a.bin"))).toBe(true);
    expect(existsSync(join(p.models, "shared/b.bin"))).toBe(false);
    const log = lethe(["audit", "log", "--dataset", "training", "--json"], p.dir).json as {
      entries: { action: string; reason?: string; key?: number }[];
    };
    const fileEntries = log.entries.filter((e) => e.reason?.includes("linked file"));
    expect(fileEntries.map((e) => [e.action, e.key])).toHaveLength(1);
  });

  it("erasing one subject leaves a file another (held) subject's row still points at", () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 11, "shared/c.bin", { ageDays: 1 }); // user-1
    addTraining(p, 12, "shared/c.bin", { ageDays: 1, createFile: false }); // user-2
    expect(lethe(["hold", "add", "--subject", "user-2", "--reason", "litigation"], p.dir).code).toBe(0);
    const r = lethe(["erase", "user-1", "--yes", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([12]);
    expect(existsSync(join(p.models, "shared/c.bin"))).toBe(true);
  });
});

import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { addTraining, ids, makeProject } from "../helpers/project.js";

// Rows of training (user-<id % 5>) can point at the same file; a file is removed only with its last row.
describe("a linked file that several rows share", () => {
  it("stays while a fresh row still points at it; goes with the last row, recorded once", async () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 1, "shared/a.bin", { ageDays: 100 }); // expired (90 d)
    addTraining(p, 2, "shared/a.bin", { ageDays: 5, createFile: false }); // fresh, same file
    addTraining(p, 3, "shared/b.bin", { ageDays: 100 });
    addTraining(p, 4, "shared/b.bin", { ageDays: 100, createFile: false }); // both expired: one file
    const r = await letheIn(["apply", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([2]);
    expect(existsSync(join(p.models, "shared/a.bin"))).toBe(true);
    expect(existsSync(join(p.models, "shared/b.bin"))).toBe(false);
    const log = (await letheIn(["audit", "log", "--dataset", "training", "--json"], p.dir)).json as {
      entries: { action: string; reason?: string; key?: number }[];
    };
    const fileEntries = log.entries.filter((e) => e.reason?.includes("linked file"));
    expect(fileEntries.map((e) => [e.action, e.key])).toHaveLength(1);
  });

  it("erasing one subject leaves a file another (held) subject's row still points at", async () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 11, "shared/c.bin", { ageDays: 1 }); // user-1
    addTraining(p, 12, "shared/c.bin", { ageDays: 1, createFile: false }); // user-2
    expect((await letheIn(["hold", "add", "--subject", "user-2", "--reason", "litigation"], p.dir)).code).toBe(0);
    const r = await letheIn(["erase", "user-1", "--yes", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([12]);
    expect(existsSync(join(p.models, "shared/c.bin"))).toBe(true);
  });

  it("one file named two ways (./x, x, absolute) is one file: erasing one subject keeps the other's", async () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 21, "./d/x.bin", { ageDays: 1 }); // user-1
    addTraining(p, 22, "d/x.bin", { ageDays: 1, createFile: false }); // user-2
    addTraining(p, 31, "d/y.bin", { ageDays: 1 }); // user-1
    addTraining(p, 32, join(p.models, "d/y.bin"), { ageDays: 1, createFile: false }); // user-2, absolute
    const r = await letheIn(["erase", "user-1", "--yes", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([22, 32]);
    expect(existsSync(join(p.models, "d/x.bin"))).toBe(true);
    expect(existsSync(join(p.models, "d/y.bin"))).toBe(true);
  });

  it("a file a row of another dataset (same fs store) points at stays", async () => {
    const p = makeProject({
      logs: 0,
      extraYaml: `  eval:
    store: appdb
    table: eval
    key: id
    subject: user_id
    createdAt: created_at
    retention: 365d
    files: { column: file_path, store: models }
`,
    });
    const db = new Database(p.db);
    db.exec("create table eval (id integer primary key, user_id text, file_path text, created_at text)");
    db.prepare("insert into eval values (1, 'user-2', 'shared/e.bin', ?)").run(new Date().toISOString());
    db.close();
    addTraining(p, 41, "shared/e.bin", { ageDays: 1 }); // user-1
    expect((await letheIn(["erase", "user-1", "--yes", "--json"], p.dir)).code).toBe(0);
    expect(ids(p.db, "training")).toEqual([]);
    expect(existsSync(join(p.models, "shared/e.bin"))).toBe(true);
  });
});

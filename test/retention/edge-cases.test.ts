import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { addTraining, DAY_MS, ids, makeProject } from "../helpers/project.js";

function sqliteProject(schema: string, dataset: string) {
  const dir = tempDir();
  const db = join(dir, "app.db");
  new Database(db).exec(schema).close();
  writeConfig(
    dir,
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  t: ${dataset}
`,
  );
  return { dir, db };
}

const epoch = (daysAgo: number) => Math.floor((Date.now() - daysAgo * DAY_MS) / 1000);

describe("retention edge cases", () => {
  it("a column mixing epoch numbers and ISO text is read per value, even when the first thousand rows agree", async () => {
    const rows = [
      ...Array.from({ length: 1500 }, (_, i) => `(${i + 1}, ${epoch(1)})`),
      ...Array.from({ length: 500 }, (_, i) => `(${1501 + i}, '2020-01-01 00:00:00')`),
    ];
    const p = sqliteProject(
      `create table t (id integer primary key, created); create index t_created on t (created);
       insert into t values ${rows.join(",")};`,
      "{ store: appdb, table: t, key: id, createdAt: created, retention: 30d }",
    );
    const plan = await letheIn(["plan", "--json"], p.dir);
    expect(plan.json).toMatchObject({ datasets: [{ name: "t", expired: 500 }] });
    expect((await letheIn(["apply", "--json"], p.dir)).code).toBe(0);
    expect(ids(p.db, "t")).toHaveLength(1500);
  });

  it("a per-row retention value that is not a number, or is negative, never expires its row (it is not 0 days)", async () => {
    const created = new Date(Date.now() - 40 * DAY_MS).toISOString();
    const p = sqliteProject(
      `create table t (id integer primary key, created text, ret text); create index t_created on t (created);
       insert into t values (1, '${created}', '30'), (2, '${created}', 'forever'), (3, '${created}', ''),
         (4, '${created}', '1 year'), (5, '${created}', '60'), (6, '${created}', null), (7, '${created}', 10),
         (8, '${created}', '-1'), (9, '${created}', -5);`,
      "{ store: appdb, table: t, key: id, createdAt: created, retention: { column: ret, unit: days } }",
    );
    const r = await letheIn(["apply", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "t")).toEqual([2, 3, 4, 5, 6, 8, 9]);
    // Only non-numbers: no crash, nothing expires.
    const q = sqliteProject(
      `create table t (id integer primary key, created text, ret text);
       insert into t values (1, '${created}', 'keep'), (2, '${created}', '30 days');`,
      "{ store: appdb, table: t, key: id, createdAt: created, retention: { column: ret, unit: days } }",
    );
    expect(await letheIn(["plan", "--json"], q.dir)).toMatchObject({ code: 0, json: { datasets: [{ expired: 0 }] } });
    // A numeric column: a negative lifetime is no lifetime, not "expired at once".
    const n = sqliteProject(
      `create table t (id integer primary key, created text, ret integer);
       insert into t values (1, '${created}', -1), (2, '${created}', 10), (3, '${created}', -0.5);`,
      "{ store: appdb, table: t, key: id, createdAt: created, retention: { column: ret, unit: days } }",
    );
    expect((await letheIn(["apply", "--json"], n.dir)).code).toBe(0);
    expect(ids(n.db, "t")).toEqual([1, 3]);
  });

  it("apply --plan with --dataset deletes only that dataset's planned items; a dataset not in the plan is refused", async () => {
    const p = makeProject({ logs: 20 });
    addTraining(p, 1, "old.pt", { ageDays: 100 });
    expect((await letheIn(["plan", "--out", "plan.json"], p.dir)).code).toBe(0);
    expect((await letheIn(["apply", "--plan", "plan.json", "--dataset", "nope"], p.dir)).code).toBe(2);
    const r = await letheIn(["apply", "--plan", "plan.json", "--dataset", "training", "--force", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(ids(p.db, "training")).toEqual([]);
    expect(ids(p.db, "logs")).toHaveLength(20); // logs' planned items stay
  });

  it("a linked file whose name starts with two dots is inside the root", async () => {
    const p = makeProject({ logs: 0 });
    addTraining(p, 1, "..weird.pt", { ageDays: 100 });
    const r = await letheIn(["apply", "--force", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(existsSync(join(p.models, "..weird.pt"))).toBe(false);
  });

  it("a secret reference that cannot be resolved names its key path", async () => {
    const p = makeProject({ logs: 0 });
    const file = join(p.dir, "lethe.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace('url: "sqlite:./app.db"', "url: env:LETHE_TEST_NOPE_URL"));
    const r = await letheIn(["plan"], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stores\.appdb\.url: secret env:LETHE_TEST_NOPE_URL/);
  });

  it("a missing secrets.subjectKey fails before lethe creates its state or a master key", async () => {
    const p = makeProject({ logs: 0 });
    const file = join(p.dir, "lethe.yaml");
    writeFileSync(file, `${readFileSync(file, "utf8")}secrets: { subjectKey: env:LETHE_TEST_NOPE_KEY }\n`);
    const r = await letheIn(["plan"], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secrets\.subjectKey: secret env:LETHE_TEST_NOPE_KEY/);
    expect(existsSync(join(p.dir, ".lethe"))).toBe(false);
  });

  it("an inclusion proof whose seq was edited does not verify", async () => {
    const p = makeProject({ logs: 10 });
    expect((await letheIn(["apply"], p.dir)).code).toBe(0);
    mkdirSync(join(p.dir, "out"));
    expect((await letheIn(["audit", "prove", "3", "--out", "out/p.json"], p.dir)).code).toBe(0);
    writeFileSync(join(p.dir, "out/pub.pem"), (await letheIn(["audit", "public-key"], p.dir)).stdout);
    const ok = await letheIn(["audit", "verify-proof", "out/p.json", "--public-key", "out/pub.pem"], p.dir);
    expect(ok.code).toBe(0);
    const proof = JSON.parse(readFileSync(join(p.dir, "out/p.json"), "utf8")) as { seq: number };
    writeFileSync(join(p.dir, "out/p.json"), JSON.stringify({ ...proof, seq: 4 }));
    expect((await letheIn(["audit", "verify-proof", "out/p.json", "--public-key", "out/pub.pem"], p.dir)).code).toBe(4);
    writeFileSync(join(p.dir, "out/p.json"), JSON.stringify({ x: 1 }));
    const bad = await letheIn(["audit", "verify-proof", "out/p.json", "--public-key", "out/pub.pem"], p.dir);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toMatch(/not a well-formed inclusion proof.*seq: /);
  });

  it("audit log says when it cut the list, and --newest shows the latest entries", async () => {
    const p = makeProject({ logs: 10 });
    expect((await letheIn(["apply", "--json"], p.dir)).code).toBe(0);
    const all = (await letheIn(["audit", "log", "--dataset", "logs", "--json"], p.dir)).json as {
      entries: { seq: number }[];
    };
    expect(all).not.toHaveProperty("truncated");
    const first = (await letheIn(["audit", "log", "--dataset", "logs", "--limit", "2", "--json"], p.dir)).json as {
      entries: { seq: number }[];
      truncated?: boolean;
    };
    expect(first.truncated).toBe(true);
    expect(first.entries.map((e) => e.seq)).toEqual(all.entries.slice(0, 2).map((e) => e.seq));
    const last = (await letheIn(["audit", "log", "--dataset", "logs", "--limit", "2", "--newest", "--json"], p.dir))
      .json as {
      entries: { seq: number }[];
    };
    expect(last.entries.map((e) => e.seq)).toEqual(all.entries.slice(-2).map((e) => e.seq));
    expect((await letheIn(["audit", "log", "--dataset", "logs", "--limit", "0"], p.dir)).code).toBe(2);
  });
});

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rawMysql } from "../conformance/sql-fixture.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { createTestMysqlDatabase, requireService } from "../helpers/services.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A MariaDB table of rows (id, user_id), every one expired, with `ddl` deciding what makes `id` unique. */
async function project(
  ddl: string,
  values = "(1, 'alice', '2020-01-01'), (1, 'bob', '2020-01-01'), (2, 'carol', '2020-01-01')",
) {
  const db = await createTestMysqlDatabase();
  cleanup.push(db.drop);
  const raw = rawMysql(db.url);
  cleanup.push(() => raw.close());
  await raw.exec(ddl);
  await raw.exec(`insert into t (id, user_id, created_at) values ${values}`);
  const dir = tempDir("lethe-mysql-key-");
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
safety: { maxFraction: 1 }
stores:
  db: { kind: sql, url: "${db.url}" }
datasets:
  t: { store: db, table: t, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
  );
  const rows = async () =>
    (await raw.exec("select id, user_id from t order by id, user_id")).map((r) => `${r.id}:${r.user_id}`);
  return { dir, rows };
}

describe("a MariaDB dataset whose key does not name one row", () => {
  for (const [what, ddl] of [
    ["no primary key", "create table t (id int, user_id varchar(64), created_at datetime)"],
    [
      "a composite primary key",
      "create table t (id int, user_id varchar(64), created_at datetime, primary key (id, user_id))",
    ],
  ] as const)
    it(`is accepted with a warning; erasing alice does not take held bob's row sharing her key (${what})`, async (ctx) => {
      requireService(ctx, "mysql");
      const p = await project(ddl);
      expect((await letheIn(["hold", "add", "--subject", "bob", "--reason", "litigation"], p.dir)).code).toBe(0);
      const plan = await letheIn(["plan", "--json"], p.dir);
      expect(plan.stderr).toContain(`column "id" is not unique`);
      const erase = await letheIn(["erase", "alice", "--yes", "--json"], p.dir);
      expect(erase.code).toBe(0);
      expect(await p.rows()).toEqual(["1:bob", "2:carol"]);
      const apply = await letheIn(["apply", "--json"], p.dir);
      expect(apply.code).toBe(0);
      expect(await p.rows()).toEqual(["1:bob"]);
    });

  it("a single-column UNIQUE index beside another primary key is enough", async (ctx) => {
    requireService(ctx, "mysql");
    const p = await project(
      "create table t (n int auto_increment primary key, id int, user_id varchar(64), created_at datetime, unique (id))",
      "(1, 'alice', '2020-01-01'), (2, 'bob', '2020-01-01')",
    );
    const erase = await letheIn(["erase", "alice", "--yes", "--json"], p.dir);
    expect(erase.code).toBe(0);
    expect(await p.rows()).toEqual(["2:bob"]);
  });
});

describe("a MariaDB dataset keyed by a binary column", () => {
  it("is refused at load, naming the key, instead of failing every expired row as 'the key is empty'", async (ctx) => {
    requireService(ctx, "mysql");
    const p = await project(
      "create table t (id varbinary(16) primary key, user_id varchar(64), created_at datetime)",
      "(unhex('00ff10'), 'alice', '2020-01-01'), (unhex('deadbeef'), 'bob', '2020-01-01')",
    );
    const apply = await letheIn(["apply", "--json"], p.dir);
    expect(apply.code).toBe(2);
    expect(apply.json).toMatchObject({
      error: { code: "CONFIG_INVALID", message: expect.stringContaining('datasets.t.key: column "id" is binary') },
    });
    expect((await p.rows()).length).toBe(2);
  });
});

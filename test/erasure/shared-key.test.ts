import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RawSql, rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A table whose `id` does not name one row: alice and bob share id 1, and every row is long expired. */
async function project(backend: "sqlite" | "postgres", ddl: string) {
  const dir = tempDir("lethe-shared-key-");
  let url: string;
  let raw: RawSql;
  if (backend === "sqlite") {
    raw = rawSqlite(join(dir, "app.db"));
    url = "sqlite:app.db";
  } else {
    const db = await createTestPgDatabase();
    cleanup.push(db.drop);
    url = db.url;
    raw = rawPg(url);
  }
  cleanup.push(() => raw.close());
  for (const statement of ddl.split("; ")) await raw.exec(statement);
  await raw.exec(
    "insert into t (id, user_id, created_at) values (1, 'alice', '2020-01-01'), (1, 'bob', '2020-01-02'), (2, 'carol', '2020-01-01'), (3, null, '2020-01-01')",
  );
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
safety: { maxFraction: 1 }
stores:
  db: { kind: sql, url: "${url}" }
datasets:
  t: { store: db, table: t, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
  );
  const rows = async () =>
    (await raw.exec("select id, user_id from t order by id, user_id")).map((r) => `${r.id}:${r.user_id}`);
  return { dir, rows };
}

const TABLES = [
  ["no primary key", "create table t (id integer, user_id text, created_at text)"],
  [
    "a composite primary key",
    "create table t (id integer, user_id text, created_at text, primary key (id, created_at))",
  ],
  [
    "a partial unique index",
    "create table t (id integer, user_id text, created_at text); create unique index t_u on t (id) where user_id = 'x'",
  ],
] as const;

describe.each(["sqlite", "postgres"] as const)("%s: a key that does not name one row", (backend) => {
  for (const [what, ddl] of TABLES)
    it(`(${what}) erasure and retention never take a held subject's row that shares a key`, async (ctx) => {
      if (backend === "postgres") requireService(ctx, "pg");
      const p = await project(backend, ddl);
      expect((await letheIn(["hold", "add", "--subject", "bob", "--reason", "litigation"], p.dir)).code).toBe(0);
      const erase = await letheIn(["erase", "alice", "--yes", "--json"], p.dir);
      expect(erase.code, JSON.stringify(erase.json)).toBe(0);
      expect(await p.rows()).toEqual(["1:bob", "2:carol", "3:null"]);
      const apply = await letheIn(["apply", "--json"], p.dir);
      expect(apply.code).toBe(0);
      // carol and the row without a subject expire; bob is held.
      expect(await p.rows()).toEqual(["1:bob"]);
      const verify = await letheIn(["audit", "verify", "--full", "--json"], p.dir);
      expect(verify.code).toBe(0);
    });
});

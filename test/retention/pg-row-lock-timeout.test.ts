import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { rawPg } from "../conformance/sql-fixture.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe("a PostgreSQL row the application keeps locked", () => {
  // same-database: the batch DELETE runs inside a transaction of lethe's state, on the state's connection.
  for (const mode of ["own state", "same-database"] as const)
    it(`(${mode}) fails alone after the lock timeout instead of stalling the run; the other rows go`, async (ctx) => {
      requireService(ctx, "pg");
      const db = await createTestPgDatabase();
      cleanup.push(db.drop);
      const raw = rawPg(db.url);
      cleanup.push(() => raw.close());
      await raw.exec("create table lk (id int primary key, user_id text, created_at timestamptz not null)");
      await raw.exec("insert into lk values (1, 'a', '2020-01-01'), (2, 'b', '2020-01-01'), (3, 'c', now())");
      const app = new pg.Client({ connectionString: db.url });
      await app.connect();
      cleanup.push(() => app.end());
      await app.query("begin");
      await app.query("select * from lk where id = 1 for update");
      const dir = tempDir("lethe-pg-lock-");
      writeConfig(
        dir,
        `version: 1
${mode === "same-database" ? `state: "${db.url}"\n` : ""}safety: { maxFraction: 1 }
stores:
  pg: { kind: sql, url: "${db.url}" }
datasets:
  lk: { store: pg, table: lk, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
      );
      const r = await letheIn(["apply", "--json"], dir);
      await app.query("rollback");
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({
        datasets: [{ name: "lk", expired: 2, deleted: 1, failed: 1, failures: [{ key: 1 }] }],
      });
      expect((await raw.exec("select id from lk order by id")).map((x) => x.id)).toEqual([1, 3]);
    }, 90_000);
});

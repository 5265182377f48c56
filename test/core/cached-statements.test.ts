import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { cachedStatements } from "../../src/core/cached-statements.js";

interface Db {
  t: { id: number; v: string };
}

/** A real in-memory database whose prepare() is counted. */
function counted(): { raw: Database.Database; prepared: () => number } {
  const raw = new Database(":memory:");
  raw.exec("create table t (id integer primary key, v text)");
  let n = 0;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((text: string) => {
    n++;
    return prepare(text);
  }) as typeof raw.prepare;
  return { raw, prepared: () => n };
}

describe("cachedStatements: Kysely on SQLite reuses prepared statements", () => {
  it("prepares a SQL text once, whatever the parameters", async () => {
    const { raw, prepared } = counted();
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cachedStatements(raw) }) });
    for (let i = 0; i < 50; i++)
      await db
        .insertInto("t")
        .values({ id: i, v: `v${i}` })
        .execute();
    for (let i = 0; i < 50; i++)
      expect(await db.selectFrom("t").select("v").where("id", "=", i).executeTakeFirst()).toEqual({ v: `v${i}` });
    expect(prepared()).toBe(2);
    await db.destroy();
  });

  it("keeps at most `keep` texts, dropping the least recently used", async () => {
    const { raw, prepared } = counted();
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cachedStatements(raw, 2) }) });
    const run = (n: number) => sql`select ${sql.lit(n)} as n`.execute(db);
    await run(1);
    await run(2);
    await run(1); // 1 is now the most recent
    await run(3); // evicts 2
    expect(prepared()).toBe(3);
    await run(1);
    expect(prepared()).toBe(3);
    await run(2);
    expect(prepared()).toBe(4);
    await db.destroy();
  });
});

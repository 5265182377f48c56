import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { sameDatabase, sameSession } from "../../src/core/same-database.js";
import { type RawSql, rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { logsProject } from "./kill-during-apply.js";

const ROWS = 1200;

/** ROWS expired rows over 7 subjects. */
const seedRows = (raw: RawSql, engine: "sqlite" | "pg") => seedLogs(raw, engine, ROWS, { users: 7 });

const project = logsProject;

/** Applies retention and returns how many intent rows were written meanwhile (a trigger counts them). */
async function applyCountingIntents(dir: string, state: RawSql, pg: boolean): Promise<number> {
  expect((await letheIn(["plan"], dir)).code).toBe(0);
  await state.exec("create table intent_writes (n integer)");
  if (pg) {
    await state.exec(`create function count_intent() returns trigger language plpgsql as
      $$ begin insert into public.intent_writes values (1); return new; end $$`);
    await state.exec(
      // lethe's tables live in schema lethe; the trigger fires on its connection, whose search_path is that schema.
      "create trigger count_intent after insert on lethe.intents for each row execute function public.count_intent()",
    );
  } else
    await state.exec(
      "create trigger count_intent after insert on intents begin insert into intent_writes values (1); end",
    );
  const r = await letheIn(["apply", "--force", "--json"], dir);
  expect(r.stdout, r.stderr).toContain('"datasets"');
  return Number((await state.exec("select count(*) as n from intent_writes"))[0]?.n);
}

async function deletedItems(dir: string): Promise<number> {
  const out = (await letheIn(["audit", "export", "--format", "jsonl"], dir)).stdout.trim().split("\n");
  return out.map((l) => JSON.parse(l)).filter((e) => e.action === "deleted" && e.item !== undefined).length;
}

describe("same-database mode: delete and ledger entries in one transaction, no intent", () => {
  it("PostgreSQL state in the target database writes no intent; every row is recorded", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const raw = rawPg(db.url);
    await seedRows(raw, "pg");
    const dir = project(db.url, db.url);
    expect(await applyCountingIntents(dir, raw, true)).toBe(0);
    expect(Number((await raw.exec("select count(*) as n from logs"))[0]?.n)).toBe(0);
    expect(await deletedItems(dir)).toBe(ROWS);
    expect((await letheIn(["audit", "verify", "--json"], dir)).json).toMatchObject({ ok: true });
    await raw.close();
    await db.drop();
  }, 120_000);

  it("PostgreSQL state in another database still goes through intents", async (ctx) => {
    requireService(ctx, "pg");
    const target = await createTestPgDatabase();
    const state = await createTestPgDatabase();
    const raw = rawPg(target.url);
    await seedRows(raw, "pg");
    const st = rawPg(state.url);
    const dir = project(target.url, state.url);
    expect(await applyCountingIntents(dir, st, true)).toBeGreaterThan(0);
    expect(await deletedItems(dir)).toBe(ROWS);
    await raw.close();
    await st.close();
    await target.drop();
    await state.drop();
  }, 120_000);

  it("PostgreSQL: a row the database refuses fails alone; the transaction goes on (savepoint)", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const raw = rawPg(db.url);
    await seedRows(raw, "pg");
    await raw.exec("create table refs (log_id bigint references logs (id)); insert into refs values (5)");
    const dir = project(db.url, db.url);
    expect(await applyCountingIntents(dir, raw, true)).toBe(0);
    expect((await raw.exec("select id from logs")).map((r) => Number(r.id))).toEqual([5]);
    expect(await deletedItems(dir)).toBe(ROWS - 1);
    const out = (await letheIn(["audit", "export", "--format", "jsonl"], dir)).stdout.trim().split("\n");
    expect(out.map((l) => JSON.parse(l)).filter((e) => e.action === "failed" && Number(e.key) === 5)).toHaveLength(1);
    await raw.close();
    await db.drop();
  }, 120_000);

  it("SQLite: a table in the state file (reached through a symlink) writes no intent", async () => {
    const dir0 = tempDir();
    const stateDir = join(dir0, ".lethe");
    mkdirSync(stateDir, { mode: 0o700 });
    const path = join(stateDir, "state.db");
    new Database(path).close();
    symlinkSync(path, join(dir0, "app.db"));
    const raw = rawSqlite(path);
    await seedRows(raw, "sqlite");
    const dir = project(`sqlite:${join(dir0, "app.db")}`, stateDir);
    expect(await applyCountingIntents(dir, raw, false)).toBe(0);
    expect(await deletedItems(dir)).toBe(ROWS);
    await raw.close();
  }, 120_000);

  it("sameDatabase: PostgreSQL by host, port and name; SQLite by file identity", () => {
    expect(sameDatabase("postgres://a@db/app", "postgresql://b:x@db:5432/app")).toBe(true);
    expect(sameDatabase("postgres://db/app", "postgres://db/other")).toBe(false);
    expect(sameDatabase("postgres://db/app", "mysql://db/app")).toBe(false);
    const d = tempDir();
    writeFileSync(join(d, "a.db"), "");
    writeFileSync(join(d, "b.db"), "");
    symlinkSync(join(d, "a.db"), join(d, "link.db"));
    expect(sameDatabase(`sqlite:${join(d, "a.db")}`, `sqlite:${join(d, "link.db")}`)).toBe(true);
    expect(sameDatabase(`sqlite:${join(d, "a.db")}`, `sqlite:${join(d, "b.db")}`)).toBe(false);
    expect(sameDatabase(`sqlite:${join(d, "a.db")}`, `sqlite:${join(d, "missing.db")}`)).toBe(false);
  });

  it("sameDatabase/sameSession: what a URL leaves out comes from PG* variables, as when the pg client connects", () => {
    const saved = { ...process.env };
    try {
      // No port in the second URL: with PGPORT=6000 it connects to :6000, another server than :5432.
      process.env.PGPORT = "6000";
      expect(sameDatabase("postgres://u@h:5432/db", "postgres://u@h/db")).toBe(false);
      expect(sameDatabase("postgres://u@h:6000/db", "postgres://u@h/db")).toBe(true);
      delete process.env.PGPORT;
      process.env.PGHOST = "other";
      expect(sameDatabase("postgres://u@h/db", "postgres://u@/db")).toBe(false);
      expect(sameDatabase("postgres://u@other/db", "postgres://u@/db")).toBe(true);
      process.env.PGDATABASE = "elsewhere";
      expect(sameDatabase("postgres://u@other/db", "postgres://u@other")).toBe(false);
      // No role in the URL: PGUSER's role, so another role than the state's.
      process.env.PGUSER = "app";
      expect(sameSession("postgres://lethe@other/db", "postgres://other/db")).toBe(false);
      expect(sameSession("postgres://app@other/db", "postgres://other/db")).toBe(true);
      process.env.PGOPTIONS = "-c search_path=tenant";
      expect(sameSession("postgres://app@other/db", "postgres://app@other/db?options=-c%20search_path%3Dtenant")).toBe(
        true,
      );
      expect(sameSession("postgres://app@other/db?options=-c%20search_path%3Dx", "postgres://app@other/db")).toBe(
        false,
      );
    } finally {
      for (const k of ["PGPORT", "PGHOST", "PGDATABASE", "PGUSER", "PGOPTIONS"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openState } from "../../src/state/open-state.js";
import { prepareStateSchema } from "../../src/state/pg-state-layout.js";
import { statePoolConfig } from "../../src/state/pg-state-schema.js";
import type { StateDatabase } from "../../src/state/schema.js";
import { auditExport, letheIn, tempDir } from "../helpers/cli.js";
import { addTraining, makeProject } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

// A PostgreSQL state laid out by lethe before its tables had a schema of their own (everything in the default
// schema, public) is moved into schema lethe on open: in one transaction, by exactly one of several instances,
// and the ledger, its checkpoints and proofs made before still verify.

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

const tablesIn = async (url: string, schema: string) =>
  (await query(url, `select tablename from pg_tables where schemaname = '${schema}' order by 1`)).map((r) =>
    String(r.tablename),
  );

/**
 * The layout earlier versions created: the same statements, run with the default search_path, so every table,
 * index, trigger and the guard function sit in public. Built by moving a state back, which keeps its rows as they are.
 */
async function toLegacyLayout(url: string): Promise<void> {
  const tables = await tablesIn(url, "lethe");
  await query(
    url,
    `begin; ${tables.map((t) => `alter table lethe.${t} set schema public;`).join(" ")}
     alter function lethe.lethe_ledger_append_only() set schema public; drop schema lethe; commit;`,
  );
}

/** A project whose state is on PostgreSQL, with deletions and an exported checkpoint, then laid out the old way. */
async function legacyProject(ctx: Parameters<typeof requireService>[0]) {
  requireService(ctx, "pg");
  const db = await createTestPgDatabase();
  drops.push(db.drop);
  const p = makeProject({ safety: 1 });
  const yaml = readFileSync(join(p.dir, "lethe.yaml"), "utf8").replace("state: ./.lethe", `state: ${db.url}`);
  writeFileSync(join(p.dir, "lethe.yaml"), yaml);
  expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
  expect((await letheIn(["audit", "checkpoint", "--out", "cp.json"], p.dir)).code).toBe(0);
  // An item's inclusion proof and the public key, taken before the move, to be checked after it.
  const batch = (await auditExport<{ seq: number; action: string; item?: number }>(p.dir)).find(
    (e) => e.action === "deleted" && e.item === undefined,
  );
  const prove = ["audit", "prove", String(batch?.seq), "--item", "0", "--out", "proof.json"];
  expect((await letheIn(prove, p.dir)).code).toBe(0);
  writeFileSync(join(p.dir, "key.pem"), (await letheIn(["audit", "public-key"], p.dir)).stdout);
  const own = await tablesIn(db.url, "lethe");
  await toLegacyLayout(db.url);
  expect(await tablesIn(db.url, "public")).toEqual(own);
  expect(await tablesIn(db.url, "lethe")).toEqual([]);
  return { p, db, own };
}

describe("PostgreSQL state: from the unqualified layout to schema lethe", () => {
  it("moves an old state on open; the ledger, old checkpoints and proofs verify and the run appends on", async (ctx) => {
    const { p, db, own } = await legacyProject(ctx);
    const before = await auditExport<{ hash: string; action: string; item?: number }>(p.dir);
    expect(before.filter((e) => e.action === "deleted").length).toBeGreaterThan(0);
    const v = await letheIn(["audit", "verify", "--full", "--json"], p.dir);
    expect(v.json, v.stderr).toMatchObject({ ok: true });
    expect(await tablesIn(db.url, "lethe")).toEqual(own);
    expect(await tablesIn(db.url, "public")).toEqual([]);
    // The guards moved with their tables: the ledger is still append-only.
    await expect(query(db.url, "delete from lethe.ledger")).rejects.toThrow(/append-only/);
    expect((await letheIn(["audit", "verify", "--checkpoint", "cp.json"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify-proof", "proof.json", "--public-key", "key.pem"], p.dir)).code).toBe(0);
    expect((await auditExport<{ hash: string }>(p.dir)).map((e) => e.hash)).toEqual(before.map((e) => e.hash));
    // The run continues: new deletions chain on, the whole ledger and the old checkpoint still verify.
    addTraining(p, 900, "t/900.bin", { ageDays: 400, retentionDays: 30 });
    expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
    const after = await auditExport<{ action: string; item?: number }>(p.dir);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.filter((e) => e.action === "deleted" && e.item !== undefined).length).toBeGreaterThan(
      before.filter((e) => e.action === "deleted" && e.item !== undefined).length,
    );
    expect((await letheIn(["audit", "verify", "--full", "--json"], p.dir)).json).toMatchObject({ ok: true });
    expect((await letheIn(["audit", "verify", "--checkpoint", "cp.json"], p.dir)).code).toBe(0);
  }, 180_000);

  it("two instances opening an old state at once: exactly one moves it, both work", async (ctx) => {
    const { db, own } = await legacyProject(ctx);
    const pools = [0, 1].map(
      () => new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool(statePoolConfig(db.url)) }) }),
    );
    const moved = await Promise.all(pools.map((k) => prepareStateSchema(k, db.url)));
    expect(moved.sort()).toEqual([false, true]);
    for (const k of pools) await k.destroy();
    expect(await tablesIn(db.url, "lethe")).toEqual(own);
    // And whole opens, at once, of a state laid out the old way again.
    await toLegacyLayout(db.url);
    const state = { kind: "postgres" as const, url: db.url, dir: tempDir() };
    const handles = await Promise.all([openState(state), openState(state)]);
    for (const h of handles) {
      const head = await h.db.selectFrom("ledger_head").select("seq").executeTakeFirstOrThrow();
      expect(Number(head.seq)).toBeGreaterThan(0);
      await h.close();
    }
    expect(await tablesIn(db.url, "lethe")).toEqual(own);
    expect(await tablesIn(db.url, "public")).toEqual([]);
  }, 180_000);

  it("refuses a database that holds lethe's state in both layouts, naming the conflict", async (ctx) => {
    const { p, db } = await legacyProject(ctx);
    expect((await letheIn(["audit", "verify", "--json"], p.dir)).json).toMatchObject({ ok: true }); // moved
    await query(db.url, "create table public.lethe_migrations (like lethe.lethe_migrations)");
    const r = await letheIn(["audit", "verify", "--json"], p.dir);
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ error: { code: "STATE_ERROR" } });
    const message = (r.json as { error: { message: string } }).error.message;
    expect(message).toMatch(/exists twice in this database: in schema "lethe" and, .*, in schema "public"/);
    expect(message).not.toContain(db.url);
  }, 180_000);
});

describe("PostgreSQL state: privileges", () => {
  it("a role without CREATE on the database opens a state in a schema lethe an administrator made for it", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const role = `lethe_role_${process.pid}_${Date.now()}`;
    await query(db.url, `create role ${role} login password 'pw'; revoke create on database "${db.name}" from public`);
    drops.push(async () => {
      await db.drop();
      await query(process.env.LETHE_TEST_PG_URL as string, `drop role if exists ${role}`);
    });
    const url = new URL(db.url);
    url.username = role;
    url.password = "pw";
    const state = { kind: "postgres" as const, url: url.toString(), dir: tempDir() };
    // No schema yet, no right to create one: a coded refusal.
    await expect(openState(state)).rejects.toMatchObject({ code: "STATE_ERROR" });
    await query(db.url, `create schema lethe authorization ${role}`);
    const h = await openState(state);
    expect(Number((await h.db.selectFrom("ledger_head").select("seq").executeTakeFirstOrThrow()).seq)).toBe(0);
    await h.close();
    expect(await tablesIn(db.url, "lethe")).toContain("ledger");
  }, 60_000);
});

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rawPg } from "../conformance/sql-fixture.js";
import { auditExport, letheIn, tempDir } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

// Same-database mode with application tables named like lethe's own (events, runs, holds, ledger) in public,
// one of them the retention dataset: lethe's state lives in its own schema, so neither can be mistaken for the other.

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

const APP = `
  create table public.events (id bigint primary key, user_id text, created_at timestamptz not null);
  insert into public.events select g, 'user-' || (g % 5), now() - interval '400 days' from generate_series(1, 300) g;
  insert into public.events select g, 'user-' || (g % 5), now() from generate_series(301, 310) g;
  create table public.runs (id bigint primary key, email text, status text);
  insert into public.runs select g, 'person' || g || '@example.com', 'running' from generate_series(1, 20) g;
  create table public.holds (subject text primary key, reason text);
  insert into public.holds values ('user-1', 'app hold, not lethe''s');
  create table public.ledger (seq bigint primary key, amount numeric);
  insert into public.ledger select g, g * 1.5 from generate_series(1, 7) g;`;

/** Every row of the app tables other than the dataset, to compare before and after. */
const SNAPSHOT = `select 'runs' as t, count(*)::int as n, md5(string_agg(r::text, ',' order by r.id)) as h from public.runs r
  union all select 'holds', count(*)::int, md5(string_agg(h::text, ',')) from public.holds h
  union all select 'ledger', count(*)::int, md5(string_agg(l::text, ',' order by l.seq)) from public.ledger l`;

describe("same-database mode: application tables named like lethe's", () => {
  it("apply deletes from the app's `events`; lethe's tables live in schema lethe; nothing else is touched", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const raw = rawPg(db.url);
    await raw.exec(APP);
    const before = await raw.exec(SNAPSHOT);
    const dir = tempDir();
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1
state: ${JSON.stringify(db.url)}
stores:
  db: { kind: sql, url: ${JSON.stringify(db.url)} }
datasets:
  events: { store: db, table: events, key: id, subject: user_id, createdAt: created_at, retention: 30d, batchSize: 100 }
`,
    );
    const r = await letheIn(["apply", "--force", "--json"], dir);
    expect(r.code, r.stderr).toBe(0);
    // The expired rows of the app's own `events` are gone, the fresh ones stay.
    const left = await raw.exec("select id from public.events order by id");
    expect(left.map((x) => Number(x.id))).toEqual(Array.from({ length: 10 }, (_, i) => 301 + i));
    expect(await raw.exec(SNAPSHOT)).toEqual(before);
    // lethe's own tables are in schema lethe, the app's names in public are the app's.
    const lethe = (await raw.exec("select tablename from pg_tables where schemaname = 'lethe'")).map(
      (x) => x.tablename,
    );
    expect(lethe).toEqual(expect.arrayContaining(["ledger", "ledger_items", "runs", "events", "holds", "intents"]));
    const pub = (await raw.exec("select tablename from pg_tables where schemaname = 'public' order by 1")).map(
      (x) => x.tablename,
    );
    expect(pub).toEqual(["events", "holds", "ledger", "runs"]);
    // The deletions are on lethe's ledger, one item each, and the whole ledger verifies.
    const items = (await auditExport<{ action: string; item?: number }>(dir)).filter(
      (e) => e.action === "deleted" && e.item !== undefined,
    );
    expect(items).toHaveLength(300);
    const v = await letheIn(["audit", "verify", "--full", "--json"], dir);
    expect(v.json, v.stderr).toMatchObject({ ok: true });
    // The app's `holds` table is not lethe's hold list.
    expect(((await letheIn(["hold", "list", "--json"], dir)).json as { holds: unknown[] }).holds).toEqual([]);
    // discover reports the app's unmapped `runs` and `holds` (personal columns), none of lethe's own tables.
    const d = await letheIn(["discover", "--json"], dir);
    const found = (d.json as { unmapped: { table: string; column: string }[] }).unmapped;
    expect(found.map((u) => [u.table, u.column])).toEqual([
      ["holds", "subject"],
      ["runs", "email"],
    ]);
    await raw.close();
  }, 120_000);
});

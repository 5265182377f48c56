import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { PgPartitions } from "../../src/stores/sql/pg-partitions.js";
import { openPostgresTarget } from "../../src/stores/sql/postgres-target.js";
import { rowToItem } from "../../src/stores/sql/sql-dataset.js";
import type { TargetDialect } from "../../src/stores/sql/target-dialect.js";
import { requireService } from "../helpers/services.js";
import { usePgDatabases } from "./partition-fixtures.js";

// Registered first, so its afterAll runs last: the targets below close before their databases are dropped.
const database = usePgDatabases();
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

/** libpq's environment for a postgres:// URL, so a documented `psql` command runs unchanged against it. */
function pgEnv(url: string): Record<string, string> {
  const u = new URL(url);
  return {
    PGHOST: u.hostname,
    PGPORT: u.port || "5432",
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: u.pathname.slice(1),
  };
}

/** docs/partitions.md, recomputed the way a third party would: each key's text, then a newline, in key order. */
function documented(keys: string[]): string {
  return createHash("sha256")
    .update(keys.map((k) => `${k}\n`).join(""))
    .digest("hex");
}

/** The driver as lethe builds it for `table` keyed by `key`; `inDbBytes` 0 streams every digest to lethe. */
function driver(target: TargetDialect, table: string, key: string, inDbBytes?: number): PgPartitions {
  const rows = { select: sql`${sql.id(key)} as k`, key, toItem: rowToItem };
  return new PgPartitions(
    target,
    { schema: "public", table, column: "created_at" },
    "timestamp with time zone",
    86_400,
    rows,
    inDbBytes,
  );
}

describe("partition key digests (ledger: partitions)", () => {
  it("the recomputation docs/partitions.md gives, run verbatim with psql, matches the recorded digest (≥ 10 integer keys)", async (ctx) => {
    requireService(ctx, "pg");
    const db = await database();
    const { raw } = db;
    const target = openPostgresTarget(db.url);
    cleanup.push(() => target.close());
    // The documented placeholders as real names: a partition `part` keyed by `key`, 1…12 (1, 10, 11, 12, 2… as text).
    await raw.exec(`create table parent (key int not null, created_at timestamptz not null,
      primary key (key, created_at)) partition by range (created_at)`);
    await raw.exec("create table part partition of parent for values from ('2020-01-01') to ('2020-02-01')");
    await raw.exec("insert into part select g, timestamptz '2020-01-02' from generate_series(12, 1, -1) g");
    const doc = readFileSync(resolve(import.meta.dirname, "../../docs/partitions.md"), "utf8");
    const command = /`(PGCLIENTENCODING=UTF8 psql [^`]+\| sha256sum)`/.exec(doc)?.[1];
    expect(command).toBeDefined();
    const out = execSync(command as string, {
      encoding: "utf8",
      env: { ...process.env, ...pgEnv(db.url) },
    });
    const d = driver(target, "parent", "key");
    const recorded = await d.digests([{ name: "public.part", from: "", to: "" }]);
    expect(recorded.get("public.part")?.rows).toBe(12);
    expect(out.split(" ")[0]).toBe(recorded.get("public.part")?.digest);
  });

  it("are the documented SHA-256 of the keys' text in key order, inside PostgreSQL and streamed alike", async (ctx) => {
    requireService(ctx, "pg");
    const db = await database();
    const { raw } = db;
    const target = openPostgresTarget(db.url);
    cleanup.push(() => target.close());
    // Text keys with what a text export could alter: a backslash, a tab, non-ASCII, digits sorted as text.
    const textKeys = ["z", "é-accent", "back\\slash", "tab\tkey", "10", "9", "A", "a b"];
    for (const [table, type] of [
      ["notes", "text"],
      ["events", "bigint"],
    ] as const) {
      await raw.exec(`create table ${table} (k ${type} not null, created_at timestamptz not null,
        primary key (k, created_at)) partition by range (created_at)`);
      await raw.exec(`create table ${table}_old partition of ${table}
        for values from ('2020-01-01') to ('2020-02-01')`);
      await raw.exec(`create table ${table}_empty partition of ${table}
        for values from ('2020-02-01') to ('2020-03-01')`);
    }
    for (const [i, k] of textKeys.entries())
      await raw.exec("insert into notes values ($1, timestamptz '2020-01-02' + $2 * interval '1 hour')", [k, i]);
    await raw.exec(
      "insert into events select i, timestamptz '2020-01-02' + i * interval '1 second' from generate_series(1, 2500) i",
    );
    const sorted = (await raw.exec("select k from notes_old order by k")).map((r) => String(r.k));
    const cases = [
      { table: "notes", keys: sorted },
      { table: "events", keys: Array.from({ length: 2500 }, (_, i) => String(i + 1)) },
    ];
    for (const { table, keys } of cases) {
      const parts = [
        { name: `public.${table}_old`, from: "", to: "" },
        { name: `public.${table}_empty`, from: "", to: "" },
      ];
      const want = new Map([
        [parts[0]!.name, { rows: keys.length, digest: documented(keys) }],
        [parts[1]!.name, { rows: 0, digest: documented([]) }],
      ]);
      // The aggregate over a sorted subquery (PostgreSQL 15), the ordered aggregate (16+), and the streamed fallback.
      for (const presorted of [false, true]) {
        const d = driver(target, table, "k");
        (d as unknown as { presorted: boolean }).presorted = presorted;
        expect(await d.digests(parts), `${table}, presorted ${presorted}`).toEqual(want);
      }
      expect(await driver(target, table, "k", 0).digests(parts), `${table}, streamed`).toEqual(want);
    }

    // The cursor under items and streamed digests: every row once, in order, across many read-ahead fetches;
    // a consumer stopping early leaves no open transaction behind (its connection serves the next query).
    const stream = target.stream as NonNullable<TargetDialect["stream"]>;
    const seen: number[] = [];
    for await (const batch of stream(sql`select k from events_old order by k`, 7))
      seen.push(...batch.map((r) => Number(r.k)));
    expect(seen).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    for (let i = 0; i < 6; i++) {
      let batches = 0;
      for await (const _ of stream(sql`select k from events_old order by k`, 100)) if (++batches === 2) break;
    }
    const open = await raw.exec(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'",
    );
    expect(open[0]?.n).toBe(0);
  });
});

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import type { RawSql } from "../conformance/sql-fixture.js";
import { auditExport, letheIn } from "../helpers/cli.js";
import { requireService } from "../helpers/services.js";
import { pgProject, usePgDatabases } from "./partition-fixtures.js";

const DAY = 86_400;
const PER_PARTITION = 24;
const HELD = "u-held";

interface Entry {
  seq: number;
  action: string;
  dataset?: string;
  key?: number;
  keyHash?: string;
  data?: Record<string, unknown>;
  /** On an export line for one item of a `deleted` batch entry (ledger v2). */
  item?: number;
}

/** The export lines of deleted items (the lines after each `deleted` batch entry, not the entry's own). */
const deletedItems = (log: Entry[]) => log.filter((e) => e.action === "deleted" && e.item !== undefined);

interface Seeded {
  raw: RawSql;
  url: string;
  /** Rows as ground truth: id → created (epoch seconds). */
  rows: Map<number, number>;
  /** Partition names with their upper bound (epoch seconds). */
  partitions: { name: string; upper: number }[];
  heldId: number;
}

const database = usePgDatabases();

/**
 * `events`, RANGE-partitioned by day on `created_at` (timestamptz, or epoch
 * seconds in a bigint), days -12…+1 around today plus a default partition
 * holding very old and future rows. One row of the subject under hold sits
 * in the partition of day -8.
 */
async function seedTemplate(type: "timestamptz" | "bigint"): Promise<Omit<Seeded, "raw" | "url"> & { name: string }> {
  const db = await database();
  const raw = db.raw;
  const lit = (s: number) => (type === "bigint" ? String(s) : `'${new Date(s * 1000).toISOString()}'`);
  await raw.exec(`create table events (id bigint not null, user_id text, note text, created_at ${type} not null,
    primary key (id, created_at)) partition by range (created_at)`);
  await raw.exec("create index events_created on events (created_at)");
  await raw.exec("create index events_user on events (user_id)");
  const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
  const partitions: Seeded["partitions"] = [];
  for (let d = -12; d <= 1; d++) {
    const lo = today + d * DAY;
    const name = `events_d${d < 0 ? `m${-d}` : d}`;
    await raw.exec(`create table ${name} partition of events for values from (${lit(lo)}) to (${lit(lo + DAY)})`);
    partitions.push({ name, upper: lo + DAY });
  }
  await raw.exec("create table events_default partition of events default");
  const rows = new Map<number, number>();
  let id = 0;
  let heldId = 0;
  const values: string[] = [];
  for (let d = -12; d <= 1; d++)
    for (let h = 0; h < PER_PARTITION; h++) {
      const created = today + d * DAY + h * 3600 + 1800;
      id++;
      const user = d === -8 && h === 5 ? HELD : `u-${id % 7}`;
      if (user === HELD) heldId = id;
      rows.set(id, created);
      values.push(`(${id}, '${user}', 'n${id}', ${lit(created)})`);
    }
  for (const created of [today - 200 * DAY, today - 150 * DAY, today + 30 * DAY]) {
    id++;
    rows.set(id, created);
    values.push(`(${id}, 'u-${id % 7}', 'n${id}', ${lit(created)})`);
  }
  await raw.exec(`insert into events (id, user_id, note, created_at) values ${values.join(", ")}`);
  await raw.close(); // a template has no connections
  return { name: db.name, rows, partitions, heldId };
}

const templates = new Map<string, ReturnType<typeof seedTemplate>>();

/**
 * A database of its own holding that seeded table: a copy of one built once per type for the file (the tests
 * drop partitions, so none shares a database; seeding each from scratch was a good part of the time).
 */
async function seed(type: "timestamptz" | "bigint"): Promise<Seeded> {
  if (!templates.has(type)) templates.set(type, seedTemplate(type));
  const { name, ...seeded } = await (templates.get(type) as ReturnType<typeof seedTemplate>);
  const db = await database({ template: name });
  return { ...seeded, raw: db.raw, url: db.url };
}

function project(url: string, ledger?: "items" | "partitions", extra = ""): string {
  return pgProject(
    url,
    `events: { store: db, table: events, key: id, subject: user_id, createdAt: created_at, retention: 3d, batchSize: 50${ledger ? `, ledger: ${ledger}` : ""} }`,
    extra,
  );
}

const entries = (dir: string) => auditExport<Entry>(dir);

/**
 * The whole ledger verifies. In this process: `lethe audit verify` runs the same pass in a worker thread, whose
 * start-up was a good part of this file's time (the CLI's verify is tested in test/ledger).
 */
async function ledgerVerifies(dir: string): Promise<boolean> {
  const l = await openLethe(join(dir, "lethe.yaml"), { stores: "none", logger: { warn: () => {}, info: () => {} } });
  try {
    return (await l.audit.verify({ full: true })).ok;
  } finally {
    await l.close();
  }
}

async function tables(raw: RawSql): Promise<Set<string>> {
  const r = await raw.exec("select relname from pg_class where relname like 'events%' and relkind in ('r', 'p')");
  return new Set(r.map((x) => String(x.relname)));
}

async function remainingIds(raw: RawSql): Promise<Set<number>> {
  return new Set((await raw.exec("select id from events")).map((r) => Number(r.id)));
}

/** Whether row `id` lies in partition `p` (day partitions: `[upper − 1 day, upper)`). */
function inPartition(s: Seeded, id: number, p: Seeded["partitions"][number]): boolean {
  const c = s.rows.get(id) as number;
  return c >= p.upper - DAY && c < p.upper;
}

/** Expected after a run at `at` (epoch s): which rows stay, which partitions are dropped. */
function expected(s: Seeded, at: number, keep: (id: number) => boolean = () => false) {
  const cutoff = at - 3 * DAY;
  const stay = new Set([...s.rows].filter(([id, c]) => c > cutoff || keep(id)).map(([id]) => id));
  const dropped = s.partitions.filter((p) => p.upper <= cutoff).map((p) => p.name);
  return { stay, dropped };
}

// Each test spawns a dozen CLI processes against a real server: generous on a loaded machine.
describe("PostgreSQL partition retention", { timeout: 180_000 }, () => {
  for (const type of ["timestamptz", "bigint"] as const)
    it(`drops wholly expired ${type} day partitions, row-deletes the boundary and default ones, one entry per row`, async (ctx) => {
      requireService(ctx, "pg");
      const s = await seed(type);
      const dir = project(s.url);
      const before = Date.now() / 1000;
      const r = await letheIn(["apply", "--json"], dir);
      expect(r.code, r.stderr).toBe(0);
      const { stay, dropped } = expected(s, before);
      expect(dropped.length).toBeGreaterThanOrEqual(8);
      const left = await tables(s.raw);
      for (const name of dropped) expect(left.has(name), name).toBe(false);
      expect(left.has("events_default")).toBe(true);
      expect(await remainingIds(s.raw)).toEqual(stay);
      const result = (r.json as { datasets: { deleted: number; partitionsDropped?: number }[] }).datasets[0];
      expect(result?.partitionsDropped).toBe(dropped.length);
      expect(result?.deleted).toBe(s.rows.size - stay.size);
      // Every deleted row has exactly one entry, whether its partition was dropped or it was row-deleted.
      const log = await entries(dir);
      const deletedKeys = deletedItems(log).map((e) => e.key);
      expect(deletedKeys.sort((a, b) => Number(a) - Number(b))).toEqual(
        [...s.rows.keys()].filter((id) => !stay.has(id)).sort((a, b) => a - b),
      );
      const drops = log.filter((e) => e.action === "partition_dropped");
      expect(drops.map((e) => String(e.data?.partition).replace("public.", ""))).toEqual(dropped);
      expect(drops.every((e) => e.data?.rows === PER_PARTITION && e.data?.keysDigest === undefined)).toBe(true);
      expect(await ledgerVerifies(dir)).toBe(true);
      // "What happened to row K?" answers for a row of a dropped partition.
      const oldest = [...s.rows].find(([, c]) => c >= s.partitions[0]!.upper - DAY && c < s.partitions[0]!.upper)!;
      const q = await letheIn(["audit", "log", "--dataset", "events", "--key", String(oldest[0]), "--json"], dir);
      expect((q.json as { entries: Entry[] }).entries.map((e) => e.action)).toEqual(["deleted"]);
    });

  it("ledger: partitions records one entry per partition with its range, row count and key digest", async (ctx) => {
    requireService(ctx, "pg");
    const s = await seed("timestamptz");
    const dir = project(s.url, "partitions");
    const before = Date.now() / 1000;
    expect((await letheIn(["apply"], dir)).code).toBe(0);
    const { stay, dropped } = expected(s, before);
    expect(await remainingIds(s.raw)).toEqual(stay);
    const log = await entries(dir);
    const drops = log.filter((e) => e.action === "partition_dropped");
    expect(drops).toHaveLength(dropped.length);
    const first = drops[0]!;
    const lo = s.partitions[0]!.upper - DAY;
    const ids = [...s.rows]
      .filter(([, c]) => c >= lo && c < lo + DAY)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    expect(first.data).toMatchObject({
      partition: "public.events_dm12",
      rows: PER_PARTITION,
      ledger: "partitions",
      keysDigest: createHash("sha256")
        .update(ids.map((i) => `${i}\n`).join(""))
        .digest("hex"),
    });
    expect(String(first.data?.from)).toContain(new Date(lo * 1000).toISOString().slice(0, 10));
    // Rows of dropped partitions have no entry of their own; boundary and default rows still do.
    const deleted = new Set(deletedItems(log).map((e) => e.key));
    for (const id of ids) expect(deleted.has(id)).toBe(false);
    expect(deleted.size).toBe(s.rows.size - stay.size - dropped.length * PER_PARTITION);
  });

  it("keeps a partition holding a held subject's row (its other rows are row-deleted) and drops nothing of a held dataset", async (ctx) => {
    requireService(ctx, "pg");
    const s = await seed("timestamptz");
    const dir = project(s.url);
    expect((await letheIn(["hold", "add", "--subject", HELD, "--reason", "litigation"], dir)).code).toBe(0);
    const before = Date.now() / 1000;
    expect((await letheIn(["apply"], dir)).code).toBe(0);
    const { stay, dropped } = expected(s, before, (id) => id === s.heldId);
    const left = await tables(s.raw);
    expect(left.has("events_dm8")).toBe(true);
    for (const name of dropped.filter((n) => n !== "events_dm8")) expect(left.has(name)).toBe(false);
    expect(await remainingIds(s.raw)).toEqual(stay);
    const held = (await entries(dir)).filter((e) => e.action === "held");
    expect(held.map((e) => e.key)).toEqual([s.heldId]);

    const s2 = await seed("timestamptz");
    const dir2 = project(s2.url);
    expect((await letheIn(["hold", "add", "--dataset", "events", "--reason", "audit"], dir2)).code).toBe(0);
    expect((await letheIn(["apply"], dir2)).code).toBe(0);
    expect((await tables(s2.raw)).size).toBe((await tables(s.raw)).size + dropped.length - 1);
    expect((await remainingIds(s2.raw)).size).toBe(s2.rows.size);
  });

  for (const [crashAt, ledger] of [
    ["items", "items"],
    ["drop", "items"],
    ["digests", "partitions"],
    ["drop", "partitions"],
  ] as const)
    it(`a run killed ${{ items: "with keys partly recorded", digests: "with its partitions detached, before their digests", drop: "with every key recorded, before the drop" }[crashAt]} is finished by the next one (ledger: ${ledger})`, async (ctx) => {
      requireService(ctx, "pg");
      {
        const s = await seed("timestamptz");
        const dir = project(s.url, ledger);
        expect((await letheIn(["hold", "list"], dir)).code).toBe(0); // creates the state (a command that opens it)
        const child = spawnSync(process.execPath, [resolve(import.meta.dirname, "partition-crash.mjs"), crashAt], {
          cwd: dir,
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(child.signal, child.stderr).toBe("SIGKILL");
        // The crashed run left its partition detached: out of the table, not yet dropped.
        expect((await tables(s.raw)).has("events_dm12")).toBe(true);
        const before = Date.now() / 1000;
        expect((await letheIn(["apply"], dir)).code).toBe(0);
        const { stay, dropped } = expected(s, before);
        const left = await tables(s.raw);
        for (const name of dropped) expect(left.has(name)).toBe(false);
        expect(await remainingIds(s.raw)).toEqual(stay);
        const log = await entries(dir);
        const keys = deletedItems(log).map((e) => Number(e.key));
        expect(new Set(keys).size).toBe(keys.length); // nothing recorded twice
        const drops = log.filter((e) => e.action === "partition_dropped");
        expect(drops).toHaveLength(dropped.length);
        const inDropped = (id: number) => s.partitions.some((p) => dropped.includes(p.name) && inPartition(s, id, p));
        const gone = [...s.rows.keys()].filter((id) => !stay.has(id) && (ledger === "items" || !inDropped(id)));
        expect(keys.sort((a, b) => a - b)).toEqual(gone.sort((a, b) => a - b));
        // The crashed run's partitions, all detached together, each get the digest of exactly its own keys.
        if (ledger === "partitions")
          for (const p of s.partitions.filter((x) => dropped.includes(x.name))) {
            const ids = [...s.rows.keys()].filter((id) => inPartition(s, id, p)).sort((a, b) => a - b);
            const digest = createHash("sha256")
              .update(ids.map((i) => `${i}\n`).join(""))
              .digest("hex");
            expect(drops.find((e) => e.data?.partition === `public.${p.name}`)?.data).toMatchObject({
              rows: ids.length,
              keysDigest: digest,
            });
          }
        expect(await ledgerVerifies(dir)).toBe(true);
      }
    });

  it("warns and deletes row by row when ledger: partitions names a table that is not partitioned", async (ctx) => {
    requireService(ctx, "pg");
    const { url, raw } = await database();
    await raw.exec("create table events (id bigint primary key, user_id text, created_at timestamptz not null)");
    await raw.exec("insert into events values (1, 'a', now() - interval '10 days'), (2, 'b', now())");
    const dir = project(url, "partitions");
    const r = await letheIn(["apply"], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/datasets\.events\.ledger: the table is not partitioned by RANGE on its createdAt column/);
    expect(deletedItems(await entries(dir)).map((e) => e.key)).toEqual([1]);
  });
});

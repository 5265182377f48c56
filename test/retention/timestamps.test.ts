import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetDriver, Item } from "../../src/core/types.js";
import { createSqlStore } from "../../src/stores/sql/driver.js";
import { type RawSql, rawMysql, rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestMysqlDatabase, createTestPgDatabase } from "../helpers/services.js";

// Local time must never leak into expiry: run the whole file far from UTC (and give the zone back after it:
// a worker runs other test files after this one).
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "Asia/Kolkata";
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

// Not a whole second: cutoffs are fractional, as they are in real runs (an integer column must still work).
const NOW = new Date("2026-03-10T12:00:00.250Z");
const RET = 30 * 86_400;
const EXPIRY_CREATED = new Date(NOW.getTime() - RET * 1000); // created exactly one retention ago

/** created instants: exactly at expiry (expired), 1 s before expiry (kept), 1 s after (expired). */
const CASES = [
  { id: 1, created: EXPIRY_CREATED, expired: true },
  { id: 2, created: new Date(EXPIRY_CREATED.getTime() + 1000), expired: false },
  { id: 3, created: new Date(EXPIRY_CREATED.getTime() - 1000), expired: true },
  { id: 4, created: new Date(NOW.getTime() - 86_400_000), expired: false },
  { id: 5, created: new Date(NOW.getTime() - 90 * 86_400_000), expired: true },
];

type Encoder = (d: Date) => string | number;
const iso = (d: Date) => d.toISOString();
const offset = (d: Date, minutes: number) => {
  const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  const sign = minutes >= 0 ? "+" : "-";
  const m = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
};

const TEXT_ENCODINGS: Record<string, Encoder> = {
  "sqlalchemy (space, 6-digit fraction, no zone)": (d) => `${iso(d).replace("T", " ").slice(0, 23)}000`,
  "ISO with T and Z": iso,
  "ISO with T, no fraction, no zone": (d) => iso(d).slice(0, 19),
  "space, no fraction": (d) => iso(d).replace("T", " ").slice(0, 19),
  "ISO with +05:30 offset": (d) => offset(d, 330),
  "ISO with -08:00 offset": (d) => offset(d, -480),
  "ISO with +0530 offset (no colon)": (d) => offset(d, 330).replace(/:(\d\d)$/, "$1"),
  "ISO with +05 offset (hours only)": (d) => offset(d, 300).slice(0, -3),
  "ISO with lowercase t and z": (d) => iso(d).replace("T", "t").replace("Z", "z"),
  "ISO with a decimal comma": (d) => iso(d).replace(".", ","),
};
const NUMERIC_ENCODINGS: Record<string, Encoder> = {
  "epoch seconds": (d) => Math.floor(d.getTime() / 1000),
  "epoch milliseconds": (d) => d.getTime(),
};

async function expiredIds(ds: DatasetDriver): Promise<number[]> {
  const out: Item[] = [];
  for await (const b of ds.scanExpired(NOW, 2)) out.push(...b);
  const summary = await ds.summarizeExpired(NOW);
  const ids = out.map((i) => Number(i.key)).sort();
  expect(summary.expired).toBe(ids.length);
  return ids;
}

const EXPECTED = CASES.filter((c) => c.expired).map((c) => c.id);

async function check(url: string, raw: RawSql, colType: string, enc: Encoder, perRow: boolean) {
  await raw.exec(`create table t (id integer primary key, created ${colType}, ret integer)`);
  await raw.exec("create index t_created on t (created)");
  for (const c of CASES)
    await raw.exec("insert into t (id, created, ret) values (?, ?, ?)", [c.id, enc(c.created), perRow ? 30 : null]);
  const store = await createSqlStore({ name: "db", kind: "sql", url });
  try {
    const issues = collectIssues();
    const ds = await store.dataset(
      datasetConfig({
        name: "t",
        store: "db",
        table: "t",
        key: "id",
        createdAt: "created",
        retention: perRow ? { kind: "column", column: "ret", unitSeconds: 86_400 } : { kind: "duration", seconds: RET },
      }),
      issues,
    );
    expect(issues.errors).toEqual([]);
    expect(issues.warnings.filter((w) => w.includes("not readable"))).toEqual([]);
    expect(await expiredIds(ds as DatasetDriver)).toEqual(EXPECTED);
  } finally {
    await store.close();
  }
}

describe("expiry at the boundary, every encoding (SQLite)", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const all: [string, string, Encoder][] = [
    ...Object.entries(TEXT_ENCODINGS).map(([n, e]) => [n, "text", e] as [string, string, Encoder]),
    ...Object.entries(NUMERIC_ENCODINGS).map(([n, e]) => [n, "integer", e] as [string, string, Encoder]),
    ["epoch seconds as REAL", "real", (d: Date) => d.getTime() / 1000],
    ["epoch seconds as digit text", "text", (d: Date) => String(Math.floor(d.getTime() / 1000))],
  ];
  for (const perRow of [false, true]) {
    for (const [name, type, enc] of all) {
      it(`${name}${perRow ? " (per-row retention column)" : ""}`, async () => {
        const dir = tempDir();
        dirs.push(dir);
        const path = join(dir, "t.db");
        await check(`sqlite:${path}`, rawSqlite(path), type, enc, perRow);
      });
    }
  }
});

describe("expiry at the boundary, every encoding (PostgreSQL)", () => {
  const all: [string, string, Encoder][] = [
    ["timestamptz", "timestamptz", iso],
    ["timestamp without time zone (UTC)", "timestamp", (d) => iso(d).replace("Z", "")],
    ...Object.entries(TEXT_ENCODINGS).map(([n, e]) => [`text: ${n}`, "text", e] as [string, string, Encoder]),
    ["bigint epoch seconds", "bigint", NUMERIC_ENCODINGS["epoch seconds"] as Encoder],
    ["bigint epoch milliseconds", "bigint", NUMERIC_ENCODINGS["epoch milliseconds"] as Encoder],
    ["double precision epoch seconds", "double precision", (d) => d.getTime() / 1000],
    ["integer epoch seconds", "integer", NUMERIC_ENCODINGS["epoch seconds"] as Encoder],
    ["numeric epoch seconds", "numeric", (d) => d.getTime() / 1000],
  ];
  // One database for the file (each case drops the previous case's table): creating one per case was most
  // of the time.
  // The raw connection is shared too (opened after the zone is set: it applies to new sessions).
  let db: Awaited<ReturnType<typeof createTestPgDatabase>> | undefined;
  let raw: RawSql | undefined;
  beforeAll(async () => {
    db = await createTestPgDatabase();
    // A server whose local zone is not UTC must not shift zone-less values (it applies to every new session).
    const admin = rawPg(db.url);
    await admin.exec(`alter database ${db.url.split("/").pop()} set timezone to 'America/New_York'`);
    await admin.close();
    raw = rawPg(db.url);
  });
  afterAll(async () => {
    await raw?.close();
    await db?.drop();
  });
  for (const perRow of [false, true]) {
    for (const [name, type, enc] of all) {
      it(`${name}${perRow ? " (per-row retention column)" : ""}`, async () => {
        const r = raw as RawSql;
        await r.exec("drop table if exists t");
        await check((db as { url: string }).url, r, type, enc, perRow);
      });
    }
  }
});

describe("expiry at the boundary, every encoding (MariaDB)", () => {
  const naive = (d: Date) => iso(d).replace("T", " ").replace("Z", "");
  const all: [string, string, Encoder][] = [
    ["datetime(6) (UTC)", "datetime(6)", naive],
    ["datetime, whole seconds (UTC)", "datetime", naive],
    ["timestamp(6)", "timestamp(6) null", naive],
    ...Object.entries(TEXT_ENCODINGS).map(([n, e]) => [`varchar: ${n}`, "varchar(64)", e] as [string, string, Encoder]),
    ["bigint epoch seconds", "bigint", NUMERIC_ENCODINGS["epoch seconds"] as Encoder],
    ["bigint epoch milliseconds", "bigint", NUMERIC_ENCODINGS["epoch milliseconds"] as Encoder],
    ["int epoch seconds", "int", NUMERIC_ENCODINGS["epoch seconds"] as Encoder],
    ["double epoch seconds", "double", (d) => d.getTime() / 1000],
    ["decimal epoch seconds", "decimal(20,6)", (d) => d.getTime() / 1000],
    ["epoch seconds as digit text", "varchar(32)", (d) => String(Math.floor(d.getTime() / 1000))],
  ];
  // A server whose zone is not UTC must not shift TIMESTAMP values or zone-less text; the raw client's session
  // (and lethe's) says UTC explicitly. The server is private to this test command.
  // One database for the file, as for PostgreSQL: each case drops the previous case's table.
  // The raw client's pool is shared too (its sessions say UTC themselves).
  let zone = "SYSTEM";
  let db: Awaited<ReturnType<typeof createTestMysqlDatabase>> | undefined;
  let raw: RawSql | undefined;
  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    raw = rawMysql(db.url);
    zone = String((await raw.exec("select @@global.time_zone as z"))[0]?.z);
    await raw.exec("set global time_zone = '-05:00'");
  });
  afterAll(async () => {
    if (!db || !raw) return;
    await raw.exec("set global time_zone = ?", [zone]);
    await raw.close();
    await db.drop();
  });
  for (const perRow of [false, true]) {
    for (const [name, type, enc] of all) {
      it(`${name}${perRow ? " (per-row retention column)" : ""}`, async () => {
        const r = raw as RawSql;
        await r.exec("drop table if exists t");
        await check((db as { url: string }).url, r, type, enc, perRow);
      });
    }
  }
});

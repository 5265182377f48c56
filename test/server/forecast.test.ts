import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expiryBucket, expiryDayBounds } from "../../src/core/expiry-days.js";
import type { StoreDriver } from "../../src/core/types.js";
import { createFsStore } from "../../src/stores/fs/driver.js";
import { createSqlStore } from "../../src/stores/sql/driver.js";
import { type RawSql, rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const DAY = 86_400;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Ages (days) of rows; with a 10-day retention an item aged a expires in 10 - a days. */
const AGES = [11, 9.99, 9.5, 8, 8, 3.2, 0.1, -25, -40];

function expected(now: Date, ages: number[], retentionDays: number[]): number[] {
  const bounds = expiryDayBounds(now, 30);
  const out = new Array(30).fill(0);
  ages.forEach((a, i) => {
    const exp = now.getTime() / 1000 - a * DAY + (retentionDays[i] ?? 10) * DAY;
    const b = expiryBucket(bounds, exp);
    if (b >= 0) out[b]++;
  });
  return out;
}

async function sqlCase(url: string, raw: RawSql) {
  const isPg = url.startsWith("postgres");
  await raw.exec(
    `create table items (id integer primary key, created_at ${isPg ? "timestamptz" : "text"} not null, keep_days integer not null)`,
  );
  const now = new Date();
  const perRow = AGES.map((_, i) => 5 + (i % 3) * 10);
  for (const [i, a] of AGES.entries())
    await raw.exec("insert into items values (?, ?, ?)", [
      i + 1,
      new Date(now.getTime() - a * DAY * 1000).toISOString(),
      perRow[i],
    ]);
  const store = await createSqlStore({ name: "db", kind: "sql", url });
  cleanups.push(() => store.close());
  const issues = collectIssues();
  const fixed = await store.dataset(
    datasetConfig({
      name: "fixed",
      store: "db",
      table: "items",
      key: "id",
      createdAt: "created_at",
      retention: { kind: "duration", seconds: 10 * DAY },
    }),
    issues,
  );
  const column = await store.dataset(
    datasetConfig({
      name: "column",
      store: "db",
      table: "items",
      key: "id",
      createdAt: "created_at",
      retention: { kind: "column", column: "keep_days", unitSeconds: DAY },
    }),
    issues,
  );
  expect(issues.errors).toEqual([]);
  expect(await fixed?.expiryHistogram?.(now, 30)).toEqual(expected(now, AGES, []));
  expect(await column?.expiryHistogram?.(now, 30)).toEqual(expected(now, AGES, perRow));
}

describe("expiry forecast per UTC day (driver capability)", () => {
  it("day bounds: today from now to midnight, then whole UTC days", () => {
    const b = expiryDayBounds(new Date("2026-01-01T18:00:00Z"), 3);
    expect(b.map((s) => new Date(s * 1000).toISOString())).toEqual([
      "2026-01-01T18:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
      "2026-01-03T00:00:00.000Z",
      "2026-01-04T00:00:00.000Z",
    ]);
    expect(expiryBucket(b, b[0]! - 1)).toBe(-1);
    expect(expiryBucket(b, b[1]! - 1)).toBe(0);
    expect(expiryBucket(b, b[1]!)).toBe(1);
    expect(expiryBucket(b, b[3]!)).toBe(-1);
  });

  it("SQLite: computed in one SQL pass, for fixed and per-row retention", async () => {
    const dir = tempDir();
    const path = join(dir, "t.db");
    const raw = rawSqlite(path);
    cleanups.push(() => raw.close());
    await sqlCase(`sqlite:${path}`, raw);
  });

  it("PostgreSQL: the same numbers", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    const raw = rawPg(db.url);
    cleanups.push(() => raw.close());
    await sqlCase(db.url, raw);
  });

  it("fs: by modification time", async () => {
    const root = tempDir();
    mkdirSync(join(root, "ckpt"));
    const now = new Date();
    for (const [i, a] of AGES.entries()) {
      const f = join(root, "ckpt", `m${i}.pt`);
      writeFileSync(f, "x");
      const t = (now.getTime() - a * DAY * 1000) / 1000;
      utimesSync(f, t, t);
    }
    const store: StoreDriver = await createFsStore({ name: "models", kind: "fs", root });
    cleanups.push(() => store.close());
    const ds = await store.dataset(
      datasetConfig({
        name: "ckpt",
        store: "models",
        storeKind: "fs",
        include: ["ckpt/**/*.pt"],
        retention: { kind: "duration", seconds: 10 * DAY },
      }),
      collectIssues(),
    );
    expect(await ds?.expiryHistogram?.(now, 30)).toEqual(expected(now, AGES, []));
  });
});

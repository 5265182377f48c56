import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DatasetDriver, Item } from "../../src/core/types.js";
import { createSqlStore } from "../../src/stores/sql/driver.js";
import { type RawSql, rawMysql, rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestMysqlDatabase, createTestPgDatabase } from "../helpers/services.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const OLD = "2026-01-01 00:00:00";
const NEW = "2026-05-31 00:00:00";

async function run(url: string, raw: RawSql, keyType: string, keys: string[], atType = "text") {
  await raw.exec(`create table t (k ${keyType} primary key, who varchar(40), at ${atType} not null)`);
  await raw.exec("create index t_at on t (at)");
  // Every other row expired, with identical timestamps so paging must break ties by key.
  for (const [i, k] of keys.entries())
    await raw.exec("insert into t values (?, ?, ?)", [k, `s${i % 3}`, i % 2 ? NEW : OLD]);
  const store = await createSqlStore({ name: "db", kind: "sql", url });
  try {
    const issues = collectIssues();
    const ds = (await store.dataset(
      datasetConfig({
        name: "t",
        store: "db",
        table: "t",
        key: "k",
        subject: "who",
        createdAt: "at",
        retention: { kind: "duration", seconds: 86_400 * 7 },
      }),
      issues,
    )) as DatasetDriver;
    expect(issues.errors).toEqual([]);
    const seen: Item[] = [];
    for await (const b of ds.scanExpired(NOW, 3)) seen.push(...b);
    const expected = keys.filter((_, i) => i % 2 === 0).sort();
    expect(seen.map((i) => String(i.key)).sort()).toEqual(expected);
    const r = await ds.deleteBatch(seen, { action: "delete", expiredAt: NOW });
    expect(r.deleted.map((i) => String(i.key)).sort()).toEqual(expected);
    const left = (await raw.exec("select k from t")).map((x) => String(x.k)).sort();
    expect(left).toEqual(keys.filter((_, i) => i % 2 === 1).sort());
    expect((await ds.existing(keys)).size).toBe(left.length);
    const s1: Item[] = [];
    for await (const b of ds.scanSubject("s1", 2)) s1.push(...b);
    expect(s1.every((i) => i.subject === "s1")).toBe(true);
  } finally {
    await store.close();
  }
}

const TEXT_KEYS = Array.from({ length: 11 }, (_, i) => `order-${String(i).padStart(3, "0")}-ü`);
const UUIDS = Array.from({ length: 11 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);

describe("non-integer primary keys", () => {
  it("SQLite text keys", async () => {
    const path = join(tempDir(), "k.db");
    const raw = rawSqlite(path);
    await run(`sqlite:${path}`, raw, "text", TEXT_KEYS);
    await raw.close();
  });

  for (const [type, keys] of [
    ["uuid", UUIDS],
    ["varchar(64)", TEXT_KEYS],
  ] as const) {
    it(`PostgreSQL ${type} keys`, async () => {
      const db = await createTestPgDatabase();
      const raw = rawPg(db.url);
      try {
        await run(db.url, raw, type, [...keys]);
      } finally {
        await raw.close();
        await db.drop();
      }
    });
  }

  // MySQL indexes no TEXT column without a prefix length: the creation column is a varchar there.
  // Beyond 2^53 keys must come back as exact strings (as doubles these neighbours are all equal): paging by key
  // and deletes must still tell them apart.
  const HUGE = Array.from({ length: 11 }, (_, i) => `184467440737095516${String(i).padStart(2, "0")}`);
  for (const [type, keys] of [
    ["char(36)", UUIDS],
    ["varchar(64)", TEXT_KEYS],
    ["bigint unsigned", HUGE],
  ] as const) {
    it(`MariaDB ${type} keys`, async () => {
      const db = await createTestMysqlDatabase();
      const raw = rawMysql(db.url);
      try {
        await run(db.url, raw, type, [...keys], "varchar(32)");
      } finally {
        await raw.close();
        await db.drop();
      }
    });
  }
});

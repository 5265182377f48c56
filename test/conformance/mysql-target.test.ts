import { afterEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item } from "../../src/core/types.js";
import { createSqlStore, type SqlStoreDriver } from "../../src/stores/sql/driver.js";
import { deleteModeOf, type MysqlTarget } from "../../src/stores/sql/mysql-target.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestMysqlDatabase, requireService } from "../helpers/services.js";
import { startTcpFaultProxy } from "../helpers/tcp-fault-proxy.js";
import { type RawSql, rawMysql } from "./sql-fixture.js";

const NOW = new Date("2026-03-10T12:00:00Z");
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(ddl: string): Promise<{ raw: RawSql; store: SqlStoreDriver }> {
  const db = await createTestMysqlDatabase();
  cleanup.push(db.drop);
  const raw = rawMysql(db.url);
  cleanup.push(() => raw.close());
  await raw.exec(ddl);
  const store = await createSqlStore({ name: "db", kind: "sql", url: db.url });
  cleanup.push(() => store.close());
  return { raw, store };
}

async function open(store: SqlStoreDriver, extra: Record<string, unknown> = {}): Promise<DatasetDriver> {
  const issues = collectIssues();
  const ds = await store.dataset(
    datasetConfig({ name: "t", store: "db", table: "t", key: "id", createdAt: "created", ...extra }),
    issues,
  );
  expect(issues.errors).toEqual([]);
  return ds as DatasetDriver;
}

async function all(it: AsyncIterable<Item[]>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of it) out.push(...b.map((i) => Number(i.key)));
  return out.sort((a, b) => a - b);
}

describe("MariaDB/MySQL target specifics", () => {
  it("picks DELETE … RETURNING only where the server has it", () => {
    expect(deleteModeOf("10.11.6-MariaDB-0+deb12u1")).toBe("returning");
    expect(deleteModeOf("11.4.2-MariaDB")).toBe("returning");
    expect(deleteModeOf("10.5.0-MariaDB")).toBe("returning");
    expect(deleteModeOf("10.4.32-MariaDB")).toBe("locking-read");
    expect(deleteModeOf("8.0.36")).toBe("locking-read");
    expect(deleteModeOf("8.4.0-log")).toBe("locking-read");
  });

  it("matches a subject byte for byte although the column's collation ignores case and trailing spaces", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup(
      "create table t (id int primary key, user_id varchar(64), created datetime, index (user_id))",
    );
    for (const [id, u] of [
      [1, "alice"],
      [2, "ALICE"],
      [3, "alice "],
      [4, "Alice"],
      [5, "alice"],
    ] as const)
      await raw.exec("insert into t values (?, ?, '2020-01-01 00:00:00')", [id, u]);
    const ds = await open(store, { subject: "user_id" });
    expect(await all(ds.scanSubject("alice", 10))).toEqual([1, 5]);
    expect(await all(ds.scanSubject("ALICE", 10))).toEqual([2]);
    expect(await all(ds.scanSubject("alice ", 10))).toEqual([3]);
    const r = await ds.deleteBatch([{ key: 1 }, { key: 5 }], { action: "delete" });
    expect(r.deleted.map((i) => i.key).sort()).toEqual([1, 5]);
    expect((await raw.exec("select id from t order by id")).map((x) => x.id)).toEqual([2, 3, 4]);
  });

  it("names a row by its exact key: a text key differing in case or trailing spaces is another key", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup("create table t (id varchar(32) primary key, created datetime)");
    await raw.exec("insert into t values ('abc', '2020-01-01'), ('Xyz', '2020-01-01')");
    const ds = await open(store);
    expect(await ds.findItems?.(["ABC", "abc ", "xyz"])).toEqual([]);
    expect([...(await ds.existing(["ABC", "abc", "Xyz", "XYZ"]))].sort()).toEqual(["Xyz", "abc"]);
    const r = await ds.deleteBatch([{ key: "ABC" }, { key: "xyz " }], { action: "delete" });
    expect(r).toEqual({ deleted: [], failed: [] });
    expect((await raw.exec("select id from t order by id")).map((x) => x.id)).toEqual(["abc", "Xyz"]);
    const ok = await ds.deleteBatch([{ key: "abc" }], { action: "delete" });
    expect(ok.deleted.map((i) => i.key)).toEqual(["abc"]);
  });

  it("a value that is no timestamp never expires and never fails the delete of the others (strict server mode)", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup("create table t (id int primary key, created varchar(64), index (created))");
    const [mode] = await raw.exec("select @@global.sql_mode as m");
    expect(String(mode?.m)).toMatch(/STRICT_TRANS_TABLES/); // MariaDB's default: the case that matters
    const values = ["2020-01-01T00:00:00Z", "not a date", "2020-02-30 00:00:00", "2020-01-02 00:00:00+05:30", ""];
    for (const [i, v] of values.entries()) await raw.exec("insert into t values (?, ?)", [i + 1, v]);
    const ds = await open(store, { retention: { kind: "duration", seconds: 86_400 } });
    const expired = await all(ds.scanExpired(NOW, 10));
    expect(expired).toEqual([1, 4]);
    const r = await ds.deleteBatch(
      [1, 2, 3, 4, 5].map((key) => ({ key })),
      { action: "delete", expiredAt: NOW },
    );
    expect(r.failed).toEqual([]);
    expect(r.deleted.map((i) => i.key).sort()).toEqual([1, 4]);
    expect((await raw.exec("select id from t order by id")).map((x) => x.id)).toEqual([2, 3, 5]);
  });

  it("an ISO text whose zone offset is out of range (+99:99, +16:00, +14:60) is no timestamp, as on PostgreSQL", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup("create table t (id int primary key, created varchar(64), index (created))");
    const values = ["2020-01-01T00:00:00+99:99", "2020-01-01T00:00:00+16:00", "2020-01-01T00:00:00+14:60"];
    for (const [i, v] of values.entries()) await raw.exec("insert into t values (?, ?)", [i + 1, v]);
    await raw.exec("insert into t values (4, '2020-01-01T00:00:00+15:59'), (5, '2020-01-01T00:00:00-0830')");
    const ds = await open(store, { retention: { kind: "duration", seconds: 86_400 } });
    expect(await all(ds.scanExpired(NOW, 10))).toEqual([4, 5]);
  });

  it("a creation column that holds no instant (YEAR, TIME, BIT) is refused at load, naming it", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup("create table t (id int primary key, y year, tm time, b bit(8), ok date)");
    // A YEAR of this year read as epoch seconds (1970) would expire at once.
    await raw.exec("insert into t values (1, year(now()), '10:00:00', b'1', current_date)");
    for (const col of ["y", "tm", "b"]) {
      const issues = collectIssues();
      const ds = await store.dataset(
        datasetConfig({ name: "t", store: "db", table: "t", key: "id", createdAt: col }),
        issues,
      );
      expect(ds).toBeUndefined();
      expect(issues.errors).toEqual([
        expect.stringMatching(new RegExp(`^datasets\\.t\\.createdAt: column "${col}": type \\w+ holds no instant`)),
      ]);
    }
    await open(store, { createdAt: "ok" });
  });

  it("per-row retention in a text column counts only plain numbers", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup(
      "create table t (id int primary key, created datetime(6), ret varchar(16), index (created))",
    );
    const rets = ["30", " 7 ", "forever", "1 year", "", null, "-1", "2.5"];
    for (const [i, r] of rets.entries())
      await raw.exec("insert into t values (?, '2026-03-01 00:00:00', ?)", [i + 1, r]);
    const ds = await open(store, { retention: { kind: "column", column: "ret", unitSeconds: 86_400 } });
    // Created 9.5 days before NOW: 7 days and 2.5 have run out; 30 has not; the rest never do (-1 is no lifetime).
    expect(await all(ds.scanExpired(NOW, 10))).toEqual([2, 8]);
  });

  it("a server in NO_BACKSLASH_ESCAPES mode cannot turn a quote in a subject id into SQL", async (ctx) => {
    requireService(ctx, "mysql");
    const { raw, store } = await setup(
      "create table t (id int primary key, user_id varchar(64), created datetime, index (user_id))",
    );
    const url = store.config.kind === "sql" ? store.config.url : "";
    const sly = "o\\' or 1=1 -- ";
    await raw.exec("insert into t values (1, ?, '2020-01-01'), (2, 'bob', '2020-01-01')", [sly]);
    const [before] = await raw.exec("select @@global.sql_mode as m");
    // Only connections opened from now on see the server's mode: a new store, a new pool.
    await raw.exec("set global sql_mode = concat(@@global.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    try {
      const again = await createSqlStore({ name: "db", kind: "sql", url });
      cleanup.push(() => again.close());
      const ds = await open(again, { subject: "user_id" });
      expect(await all(ds.scanSubject(sly, 10))).toEqual([1]);
      expect(await all(ds.scanSubject("nobody' or 'a'='a", 10))).toEqual([]);
    } finally {
      await raw.exec("set global sql_mode = ?", [String(before?.m)]);
    }
  });

  // The locking read is two statements and a COMMIT: a reply lost at either point must leave the outcome unknown
  // (the executor then asks which keys remain), never claim rows that were rolled back or miss rows that committed.
  for (const [lost, committed] of [
    ["commit", true],
    ["delete from", false],
  ] as const) {
    it(`locking read: a lost reply to the ${lost.toUpperCase()} is an unknown outcome (${committed ? "rows gone" : "rolled back"})`, async (ctx) => {
      requireService(ctx, "mysql");
      const db = await createTestMysqlDatabase();
      cleanup.push(db.drop);
      const raw = rawMysql(db.url);
      cleanup.push(() => raw.close());
      await raw.exec("create table t (id int primary key, created datetime)");
      await raw.exec("insert into t values (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01')");
      const real = new URL(db.url);
      const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
      cleanup.push(() => proxy.close());
      real.port = String(proxy.port);
      const store = await createSqlStore({ name: "db", kind: "sql", url: real.toString() });
      cleanup.push(() => store.close());
      (store.target as MysqlTarget).deleteMode = "locking-read";
      const ds = await open(store);
      const items = [1, 2, 3].map((key) => ({ key }));
      proxy.loseReplyTo(lost);
      const r = await ds.deleteBatch(items, { action: "delete", expiredAt: NOW });
      expect(proxy.lost).toBe(1);
      expect(r).toEqual({ deleted: [], failed: [], unknown: items });
      const left = (await raw.exec("select id from t order by id")).map((x) => x.id);
      expect(left).toEqual(committed ? [] : [1, 2, 3]);
      // What the executor asks next (src/executor/unknown-outcome.ts), through the same store.
      expect([...(await ds.existing([1, 2, 3]))].sort()).toEqual(committed ? [] : ["1", "2", "3"]);
    });
  }
});

describe("MariaDB: a key that does not name one row", () => {
  for (const mode of ["returning", "locking-read"] as const)
    it(`(${mode}) a batch deletes only the rows of the subjects it was read with`, async (ctx) => {
      requireService(ctx, "mysql");
      const { raw, store } = await setup("create table t (id int, user_id varchar(64), created datetime)");
      await raw.exec(
        "insert into t values (1, 'alice', '2020-01-01'), (1, 'bob', '2020-01-01'), (2, 'carol', '2020-01-01')",
      );
      (store.target as MysqlTarget).deleteMode = mode;
      const ds = await open(store, { subject: "user_id" });
      const r = await ds.deleteBatch([{ key: 1, subject: "alice" }], { action: "delete" });
      expect(r.deleted).toEqual([{ key: 1, subject: "alice" }]);
      const left = (await raw.exec("select id, user_id from t order by id, user_id")).map(
        (x) => `${x.id}:${x.user_id}`,
      );
      expect(left).toEqual(["1:bob", "2:carol"]);
    });
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import type { Item } from "../../src/core/types.js";
import { createSqlStore, type SqlStoreDriver } from "../../src/stores/sql/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import type { ConformanceFixture, SeedItem } from "./store-conformance.js";

const DAY = 86_400;

/** Minimal SQL runner so ground truth never goes through the driver under test. */
export interface RawSql {
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export function rawSqlite(path: string): RawSql {
  const db = new Database(path);
  db.pragma("journal_mode = WAL"); // as applications run it: old page versions stay in the WAL until a checkpoint
  return {
    async exec(sql, params = []) {
      const st = db.prepare(sql);
      if (st.reader) return st.all(...params) as Record<string, unknown>[];
      st.run(...params);
      return [];
    },
    async close() {
      db.close();
    },
  };
}

export function rawPg(url: string): RawSql {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => undefined);
  return {
    async exec(sql, params = []) {
      let i = 0;
      const text = sql.replace(/\?/g, () => `$${++i}`);
      return (await pool.query(text, params)).rows;
    },
    async close() {
      await pool.end();
    },
  };
}

/** The same for MariaDB/MySQL (`?` placeholders natively; UTC session like the driver's). */
export function rawMysql(url: string): RawSql {
  const pool = mysql.createPool({ uri: url, connectionLimit: 2, dateStrings: true, supportBigNumbers: true });
  pool.on("connection", (c) => {
    c.query("set session time_zone = '+00:00'");
  });
  return {
    async exec(sql, params = []) {
      const [rows] = await pool.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * A table `items(id, name, payload, user_id, file_path, created_at)` in a real SQLite file, PostgreSQL
 * or MariaDB database; rows link files into an fs store named `files` (`filesInUse`). `storeBytes` reads the database
 * files where the test can (SQLite), for the scrub and purge checks.
 */
export async function sqlFixture(
  url: string,
  raw: RawSql,
  cleanup: () => Promise<void>,
  storeBytes?: () => Promise<Buffer>,
  configure?: (store: SqlStoreDriver) => void,
): Promise<ConformanceFixture> {
  const isPg = url.startsWith("postgres");
  const isMysql = /^(mysql|mariadb):/.test(url);
  // MySQL indexes no TEXT column without a prefix length: the indexed ones are varchar there.
  const [id, str, createdType] = isMysql
    ? ["bigint", "varchar(255)", "datetime(6)"]
    : isPg
      ? ["bigint", "text", "timestamptz"]
      : ["integer", "text", "text"];
  await raw.exec(
    `create table items (id ${id} primary key, name ${str} not null, payload text not null, user_id ${str}, file_path ${str}, created_at ${createdType} not null)`,
  );
  await raw.exec("create index items_user on items (user_id)");
  await raw.exec("create index items_created on items (created_at)");
  const store = await createSqlStore({ name: "db", kind: "sql", url });
  configure?.(store);
  const issues = collectIssues();
  const dataset = await store.dataset(
    datasetConfig({
      name: "items",
      store: "db",
      table: "items",
      key: "id",
      subject: "user_id",
      createdAt: "created_at",
      files: { column: "file_path", store: "files" },
      retention: { kind: "duration", seconds: DAY },
    }),
    issues,
  );
  if (!dataset) throw new Error(`dataset did not open: ${issues.errors.join("; ")}`);
  const ids = new Map<string, number>();
  const names = new Map<string, string>();
  return {
    store,
    dataset,
    async seed(items: SeedItem[]) {
      const now = new Date();
      let id = 100;
      for (const it of items) {
        id += 7;
        ids.set(it.name, id);
        names.set(String(id), it.name);
        const created = new Date(now.getTime() - (it.expired ? 2 * DAY : DAY / 2) * 1000);
        const ts = isPg ? created.toISOString() : created.toISOString().replace("T", " ").replace("Z", "");
        await raw.exec("insert into items (id, name, payload, user_id, created_at) values (?, ?, ?, ?, ?)", [
          id,
          it.name,
          `payload-${it.name}-of-${it.subject ?? "nobody"}`,
          it.subject ?? null,
          ts,
        ]);
      }
      return now;
    },
    async present() {
      return (await raw.exec("select name from items")).map((r) => String(r.name));
    },
    nameOf(item: Item) {
      return names.get(String(item.key)) ?? `?${item.key}`;
    },
    async removeBehindBack(name) {
      await raw.exec("delete from items where id = ?", [ids.get(name)]);
    },
    hooks: {
      async linkFile(linked, path) {
        for (const name of linked) await raw.exec("update items set file_path = ? where id = ?", [path, ids.get(name)]);
      },
      storeBytes,
    },
    async close() {
      await store.close();
      await raw.close();
      await cleanup();
    },
  };
}

export async function sqliteFixture(): Promise<ConformanceFixture> {
  const dir = mkdtempSync(join(tmpdir(), "lethe-conf-"));
  const path = join(dir, "t.db");
  const raw = rawSqlite(path);
  const bytes = async () => {
    const wal = `${path}-wal`;
    let out = readFileSync(path);
    try {
      out = Buffer.concat([out, readFileSync(wal)]);
    } catch {
      // no WAL file: everything is in the main file
    }
    return out;
  };
  return sqlFixture(`sqlite:${path}`, raw, async () => rmSync(dir, { recursive: true, force: true }), bytes);
}

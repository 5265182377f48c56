import { CompiledQuery, Kysely, MysqlDialect, type RawBuilder, sql } from "kysely";
import { createPool } from "mysql2";
import { encodingOfType, mysqlEpochSeconds, mysqlRangeBound, mysqlRetentionNumber, NUMERIC } from "./mysql-time.js";
import type { AnyDb, DeleteRows, TargetDialect, TsEncoding } from "./target-dialect.js";

/** `returning`: one `DELETE … RETURNING` (MariaDB ≥ 10.5); `locking-read`: `SELECT … FOR UPDATE`, then delete. */
export type MysqlDeleteMode = "returning" | "locking-read";

export interface MysqlTarget extends TargetDialect {
  /**
   * How batches are deleted; detected from the server version at the first
   * delete unless set (tests set it to exercise the locking read on MariaDB).
   */
  deleteMode: MysqlDeleteMode | undefined;
}

/**
 * `DELETE … RETURNING` exists on MariaDB from 10.5 (as supported here); MySQL has none.
 *
 * @example
 * deleteModeOf("10.11.6-MariaDB"); // "returning"
 * deleteModeOf("8.0.36"); // "locking-read"
 */
export function deleteModeOf(version: string): MysqlDeleteMode {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m || !/mariadb/i.test(version)) return "locking-read";
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 10 || (major === 10 && minor >= 5) ? "returning" : "locking-read";
}

const TEXT_SAMPLED = /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|json)\b/;

const SYSTEM_VERSIONED =
  "the table is system-versioned (WITH SYSTEM VERSIONING): MariaDB keeps every deleted row in its history " +
  "(FOR SYSTEM_TIME ALL), which cannot be deleted per subject; remove versioning from the table or keep it out " +
  "of lethe (docs/mysql.md, what deletion leaves behind)";

function splitTable(table: string): [RawBuilder<unknown>, string] {
  const i = table.indexOf(".");
  return i < 0 ? [sql`database()`, table] : [sql`${table.slice(0, i)}`, table.slice(i + 1)];
}

/**
 * MariaDB or MySQL as a deletion target (`mysql://` or `mariadb://`). Every
 * session runs in UTC: zone-less values are UTC, as on PostgreSQL. Values
 * reach the server interpolated by mysql2, which follows the session's
 * `NO_BACKSLASH_ESCAPES` mode (test/conformance/mysql-target.test.ts).
 *
 * @example
 * const target = openMysqlTarget("mariadb://lethe:secret@db:3306/app");
 */
export function openMysqlTarget(url: string): MysqlTarget {
  const pool = createPool({
    uri: url.replace(/^mariadb:/, "mysql:"),
    connectionLimit: 4,
    // Exact values: instants as the server's text, integers as numbers only while they are safe.
    dateStrings: true,
    supportBigNumbers: true,
    charset: "UTF8MB4_GENERAL_CI",
  });
  // A connection reset while idle must not crash the process; the pool drops it and the next query reconnects.
  pool.on("connection", (conn) => conn.on("error", () => undefined));
  const dialect = new MysqlDialect({
    pool,
    onCreateConnection: async (conn) => {
      await conn.executeQuery(CompiledQuery.raw("set session time_zone = '+00:00'"));
    },
  });
  const db = new Kysely<unknown>({ dialect }) as AnyDb;
  const c = (col: string) => sql.id(col);
  /** The column's value as utf8mb4 bytes: compared with a string, byte for byte (connections are utf8mb4). */
  const bytes = (col: string) => sql`cast(convert(${c(col)} using utf8mb4) as binary)`;
  const target: MysqlTarget = {
    name: "mysql",
    db,
    deleteMode: undefined,
    async introspect(table) {
      const [schema, name] = splitTable(table);
      const cols = await sql<{ name: string; type: string }>`select column_name as name, data_type as type
        from information_schema.columns where table_schema = ${schema} and table_name = ${name}
        order by ordinal_position`.execute(db);
      if (cols.rows.length === 0) return undefined;
      // Per index: its leading column, and whether it is unique with exactly one column (names at most one row).
      const idx = await sql<{
        col: string;
        one: number;
      }>`select max(case when seq_in_index = 1 then column_name end) as col,
          (max(non_unique) = 0 and count(*) = 1) as one from information_schema.statistics
        where table_schema = ${schema} and table_name = ${name} group by index_name`.execute(db);
      const kind = await sql<{ t: string }>`select table_type as t from information_schema.tables
        where table_schema = ${schema} and table_name = ${name}`.execute(db);
      return {
        columns: new Map(cols.rows.map((r) => [r.name, { name: r.name, type: String(r.type).toLowerCase() }])),
        indexed: new Set(idx.rows.map((r) => r.col)),
        uniqueColumns: new Set(idx.rows.filter((r) => Number(r.one) === 1).map((r) => r.col)),
        ...(kind.rows[0]?.t === "SYSTEM VERSIONED" ? { undeletable: SYSTEM_VERSIONED } : {}),
      };
    },
    async listTables() {
      const r = await sql<{ t: string }>`select table_name as t from information_schema.tables
        where table_schema = database() and table_type = 'BASE TABLE'`.execute(db);
      return r.rows.map((x) => x.t);
    },
    async sampleValues(table, column, n, maxChars) {
      if (!TEXT_SAMPLED.test(column.type)) return [];
      const [schema, name] = splitTable(table);
      const est = await sql<{ n: number | null }>`select table_rows as n from information_schema.tables
        where table_schema = ${schema} and table_name = ${name}`.execute(db);
      const rows = Number(est.rows[0]?.n ?? 0);
      // ORDER BY RAND() sorts every candidate: on a large table only about five times n rows are kept for it.
      const thin = rows > 20 * n ? sql` and rand() < ${(5 * n) / rows}` : sql``;
      const r = await sql<{ v: string }>`select left(${c(column.name)}, ${maxChars}) as v from ${sql.table(table)}
        where ${c(column.name)} is not null${thin} order by rand() limit ${n}`.execute(db);
      return r.rows.map((x) => String(x.v));
    },
    async detectEncoding(table, column): Promise<TsEncoding> {
      const r = await sql<{ one: number }>`select 1 as one from ${sql.table(table)}
        where ${c(column.name)} is not null limit 1`.execute(db);
      return r.rows.length === 0 ? "empty" : encodingOfType(column.type);
    },
    // Columns are typed: a YEAR of 2026 would otherwise be read as 2026 epoch seconds (1970), and expire.
    unreadableTimeType: (type) =>
      encodingOfType(type) === "mixed"
        ? `type ${type} holds no instant; use DATETIME, TIMESTAMP, DATE, an epoch number or ISO text`
        : undefined,
    epochSeconds: (column, enc) => mysqlEpochSeconds(column, enc),
    retentionNumber: (column, type) => mysqlRetentionNumber(column, type),
    rangeBound: (column, enc, _type, cutoff) => mysqlRangeBound(column, enc, cutoff),
    // dateStrings: the server's own text for instants, exact numbers otherwise; the server converts back.
    cursorValue: (column) => sql`${c(column)}`,
    cursorParam: (value) => sql`${value}`,
    inList(column, type, values) {
      if (values.length === 0) return sql<boolean>`1 = 0`;
      // Client-side interpolation expands the array into a literal list the index serves.
      if (NUMERIC.test(type)) return sql<boolean>`${c(column)} in (${values})`;
      const list = values.map(String);
      // The key named "ABC" is not the row "abc" (nor "abc "), whatever the collation says.
      return sql<boolean>`(${c(column)} in (${list}) and ${bytes(column)} in (${list}))`;
    },
    // The default collations ignore case and trailing spaces; the byte comparison is exact, the first keeps the index.
    equalsExactly: (column, value) =>
      sql<boolean>`(${c(column)} = ${value} and ${bytes(column)} = cast(${value} as binary))`,
    comparable(type, value) {
      if (NUMERIC.test(type)) return /^-?\d+(\.\d+)?$/.test(value);
      return true;
    },
    deleteRows: (table, key, keyType, where, select) => deleteRows(target, table, key, keyType, where, select),
    async scrub() {
      // InnoDB keeps deleted records in its pages, undo and binary logs until reused; documented in docs/mysql.md.
    },
    async close() {
      await db.destroy();
    },
  };
  return target;
}

/** One batch delete that reports exactly the rows it removed, atomically. */
const deleteRows = async (
  target: MysqlTarget,
  ...[table, , , where, select]: Parameters<DeleteRows>
): Promise<Record<string, unknown>[]> => {
  if (target.deleteMode === undefined) {
    const v = await sql<{ v: string }>`select version() as v`.execute(target.db);
    target.deleteMode = deleteModeOf(String(v.rows[0]?.v ?? ""));
  }
  if (target.deleteMode === "returning") {
    const r = await sql<Record<string, unknown>>`delete from ${table} where ${where} returning ${select}`.execute(
      target.db,
    );
    return r.rows;
  }
  // Without RETURNING: the rows read FOR UPDATE stay locked until commit, so exactly they are deleted.
  return target.db.transaction().execute(async (trx) => {
    const r = await sql<Record<string, unknown>>`select ${select} from ${table} where ${where} for update`.execute(trx);
    if (r.rows.length === 0) return [];
    // The same condition, not the keys alone: with a key that is not unique, a row of another subject may share one.
    await sql`delete from ${table} where ${where}`.execute(trx);
    return r.rows;
  });
};

import Database from "better-sqlite3";
import { Kysely, type RawBuilder, SqliteDialect, sql } from "kysely";
import { cachedStatements } from "../../core/cached-statements.js";
import { ScrubBatcher } from "./scrub-batcher.js";
import { checkpoint } from "./sqlite-purge.js";
import {
  type AnyDb,
  type ColumnInfo,
  isoDateBound,
  MS_THRESHOLD,
  type TargetDialect,
  type TsEncoding,
} from "./target-dialect.js";

/**
 * ISO 8601 forms SQLite's date functions do not read, rewritten into ones they
 * do: a lowercase `t`/`z`, a decimal comma, and `+HHMM` or `+HH` offsets.
 * Only evaluated for values the plain parse rejected.
 */
function isoVariants(v: RawBuilder<unknown>): RawBuilder<string> {
  const n = sql`replace(upper(trim(${v})), ',', '.')`;
  return sql<string>`(case
    when ${n} glob '*[0-9]:[0-9][0-9]*[+-][0-9][0-9][0-9][0-9]'
      then substr(${n}, 1, length(${n}) - 2) || ':' || substr(${n}, -2)
    when ${n} glob '*[0-9]:[0-9][0-9]*[+-][0-9][0-9]' then ${n} || ':00'
    else ${n}
  end)`;
}

/**
 * SQLite as a deletion target. secure_delete zeroes freed pages and the WAL
 * is checkpointed with TRUNCATE after a run, so deleted values cannot be
 * recovered by scanning the database files.
 *
 * @example
 * const target = openSqliteTarget("/srv/app.db");
 */
export function openSqliteTarget(path: string, busyTimeoutMs = 10_000): TargetDialect {
  const raw = new Database(path, { fileMustExist: true });
  raw.pragma("secure_delete = ON");
  raw.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  // Per connection only: deletes touch index pages in random order, and a larger cache keeps them hot.
  raw.pragma("cache_size = -65536");
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cachedStatements(raw) }) }) as AnyDb;
  const c = (col: string) => sql.id(col);
  let batcher: ScrubBatcher | undefined;
  return {
    name: "sqlite",
    db,
    purge(store, values, mode, windowMs) {
      // One per file: every erasure of this process shares its passes. The connection mutex keeps a
      // checkpoint or VACUUM out of a transaction lethe itself has open on the file.
      batcher ??= new ScrubBatcher({
        store,
        path,
        raw,
        exclusive: (fn) => db.connection().execute(async () => fn()),
      });
      return batcher.purge(values, mode, windowMs);
    },
    async introspect(table) {
      const cols = raw.prepare("select name, type from pragma_table_info(?)").all(table) as {
        name: string;
        type: string;
      }[];
      if (cols.length === 0) return undefined;
      const indexed = new Set<string>();
      const uniqueColumns = new Set<string>();
      const pk = raw.prepare("select name from pragma_table_info(?) where pk > 0 order by pk").all(table) as {
        name: string;
      }[];
      if (pk[0]) indexed.add(pk[0].name);
      if (pk.length === 1 && pk[0]) uniqueColumns.add(pk[0].name);
      const idx = raw.prepare('select name, "unique" as u, partial from pragma_index_list(?)').all(table) as {
        name: string;
        u: number;
        partial: number;
      }[];
      for (const i of idx) {
        // An expression column has no name; a partial index says nothing about the rows outside it.
        const parts = raw.prepare("select name from pragma_index_info(?) order by seqno").all(i.name) as {
          name: string | null;
        }[];
        if (parts[0]?.name) indexed.add(parts[0].name);
        if (i.u === 1 && i.partial === 0 && parts.length === 1 && parts[0]?.name) uniqueColumns.add(parts[0].name);
      }
      return {
        columns: new Map(cols.map((x) => [x.name, { name: x.name, type: x.type.toLowerCase() }])),
        indexed,
        uniqueColumns,
      };
    },
    async sampleValues(table, column, n, maxChars) {
      // Type affinity rules: CHAR, CLOB, TEXT (and JSON, or no declared type) hold text.
      if (!/char|clob|text|json|^$/.test(column.type)) return [];
      const v = sql`substr(${c(column.name)}, 1, ${maxChars})`;
      const where = sql`${c(column.name)} is not null and typeof(${c(column.name)}) = 'text'`;
      const t = sql.table(table);
      let top = 0;
      try {
        const m = await sql<{ m: number | null }>`select max(rowid) as m from ${t}`.execute(db);
        top = Number(m.rows[0]?.m ?? 0);
      } catch {
        top = 0; // WITHOUT ROWID: no cheap random access, the first rows are sampled
      }
      // A small table is shuffled whole; a large one is read in ten windows at random rowids.
      if (top <= 50_000) {
        const order = top > 0 ? sql`order by random()` : sql``;
        const r = await sql<{ v: string }>`select ${v} as v from ${t} where ${where} ${order} limit ${n}`.execute(db);
        return r.rows.map((x) => x.v);
      }
      const out: string[] = [];
      const per = Math.ceil(n / 10);
      for (let i = 0; i < 10 && out.length < n; i++) {
        const from = Math.floor(Math.random() * top);
        const r = await sql<{ v: string }>`select ${v} as v from ${t} where rowid >= ${from} and ${where}
          order by rowid limit ${per}`.execute(db);
        out.push(...r.rows.map((x) => x.v));
      }
      return out.slice(0, n);
    },
    async listTables() {
      const rows = raw
        .prepare("select name from sqlite_schema where type = 'table' and name not like 'sqlite_%'")
        .all() as { name: string }[];
      return rows.map((r) => r.name);
    },
    async detectEncoding(table: string, column: ColumnInfo): Promise<TsEncoding> {
      // SQLite orders numbers before text before blobs, so the smallest and the largest value tell
      // whether the whole column mixes kinds (through the index when there is one: two lookups).
      const r = await sql<{ lo: string | null; hi: string | null }>`select typeof(min(${c(column.name)})) as lo,
        typeof(max(${c(column.name)})) as hi from ${sql.table(table)}`.execute(db);
      const row = r.rows[0];
      const types = [row?.lo, row?.hi].filter((t): t is string => t !== null && t !== undefined && t !== "null");
      const kinds = new Set(types.map((t) => (t === "integer" || t === "real" ? "epoch" : t)));
      if (kinds.size === 0) return "empty";
      if (kinds.size > 1) return "mixed";
      return kinds.has("epoch") ? "epoch" : kinds.has("text") ? "text" : "mixed";
    },
    epochSeconds(column) {
      const v = c(column);
      // One expression for every encoding, so a stray value of another kind is still read right.
      return sql<number | null>`(case
        when typeof(${v}) in ('integer', 'real') then (case when ${v} > ${MS_THRESHOLD} then ${v} / 1000.0 else ${v} end)
        when typeof(${v}) = 'text' and ${v} <> '' and ${v} not glob '*[^0-9]*'
          then (case when cast(${v} as integer) > ${MS_THRESHOLD} then cast(${v} as integer) / 1000.0 else cast(${v} as integer) end)
        when typeof(${v}) = 'text' then coalesce(unixepoch(${v}, 'subsec'), unixepoch(${isoVariants(v)}, 'subsec'))
      end)`;
    },
    retentionNumber(column) {
      const v = c(column);
      // Only numbers and plain-number text count; "forever", "1 year" or '' never expire (not 0 days).
      return sql<number | null>`(case
        when typeof(${v}) in ('integer', 'real') then ${v}
        when typeof(${v}) = 'text' and trim(${v}) <> '' and trim(${v}) not glob '*[^0-9.]*'
          and trim(${v}) not glob '*.*.*' and trim(${v}) not glob '.*' then cast(trim(${v}) as real)
      end)`;
    },
    rangeBound(column, enc, _type, cutoff) {
      const v = c(column);
      if (enc === "epoch")
        return sql<boolean>`(${v} <= ${cutoff} or (${v} > ${MS_THRESHOLD} and ${v} <= ${cutoff * 1000}))`;
      if (enc === "text") return sql<boolean>`${v} < ${isoDateBound(cutoff)}`;
      return undefined;
    },
    // SQLite hands back exactly what it stored, text or number alike.
    cursorValue: (column) => sql`${c(column)}`,
    cursorParam: (value) => sql`${value}`,
    inList(column, _type, values) {
      return sql<boolean>`${c(column)} in (select value from json_each(${JSON.stringify(values)}))`;
    },
    // A NOCASE column would otherwise match "carol" to "CAROL"; a BINARY column's index still serves this.
    equalsExactly: (column, value) => sql<boolean>`${c(column)} = ${value} collate binary`,
    comparable() {
      return true;
    },
    async scrub() {
      raw.pragma("wal_checkpoint(TRUNCATE)");
    },
    async close() {
      try {
        // Best effort: runs and purges already checkpointed (and waited) where it mattered.
        checkpoint(raw, false);
      } catch {
        // read-only or already closed: nothing to flush
      }
      await db.destroy();
    },
  };
}

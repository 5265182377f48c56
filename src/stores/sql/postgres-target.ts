import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import "../../state/pg-int8.js";
import { userSchema } from "../../state/state-schema-name.js";
import {
  type AnyDb,
  type ColumnInfo,
  isoDateBound,
  MS_THRESHOLD,
  type TargetDialect,
  type TsEncoding,
} from "./target-dialect.js";

const NUMERIC = /^(smallint|integer|bigint|numeric|real|double precision|decimal)/;
const TEXTUAL = /^(text|character varying|character|varchar|char)/;
const ISO_RE = "^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}([.,]\\d+)?)?)?\\s*(Z|[+-]\\d{2}(:?\\d{2})?)?$";
const ARRAY_TYPE: Record<string, string> = {
  smallint: "int2[]",
  integer: "int4[]",
  bigint: "int8[]",
  uuid: "uuid[]",
  numeric: "numeric[]",
};

/**
 * A number as a parameter of the column's own type family, so the comparison
 * stays on the column's index and never overflows a narrower parameter type
 * (PostgreSQL would otherwise type `int_col <= $1` as int and reject 1.5e9.3).
 * For integer columns `v <= floor(x)` is exactly `v <= x`.
 */
function typedNumber(value: number, colType: string) {
  if (/^(smallint|integer|bigint)/.test(colType)) return sql`cast(${String(Math.floor(value))} as bigint)`;
  if (/^(numeric|decimal)/.test(colType)) return sql`cast(${String(value)} as numeric)`;
  return sql`cast(${String(value)} as double precision)`;
}

/** How long a statement waits for a lock the application holds (MariaDB's own default is 50 s). */
export const ROW_LOCK_TIMEOUT_MS = 10_000;

/**
 * PostgreSQL as a deletion target. Sessions run in UTC so zone-less text and
 * `timestamp` columns are read as UTC, never as the server's local time.
 */
export function openPostgresTarget(url: string): TargetDialect {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    // A connection reset mid-query rejects that query; the client's own error event must not crash the process.
    client.on("error", () => undefined);
    // A row the application keeps locked must not stall a run forever: the batch is refused after this (lock
    // timeout, nothing deleted), retried row by row, and the locked row fails alone; the next run takes it.
    // One statement: a second query queued behind the first makes the pg client print a DeprecationWarning.
    client.query(`set time zone 'UTC'; set lock_timeout = ${ROW_LOCK_TIMEOUT_MS}`).catch(() => undefined);
  });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) as AnyDb;
  let schema: Promise<string> | undefined;
  // Where the user's unqualified table names live on their own connection; asked once.
  const defaultSchema = (): Promise<string> => {
    schema ??= sql<{ s: string[] }>`select current_schemas(false)::text[] as s`.execute(db).then(
      (r) => userSchema(r.rows[0]?.s ?? []),
      (err) => {
        schema = undefined;
        throw err;
      },
    );
    return schema;
  };
  const splitTable = async (table: string): Promise<[string, string]> => {
    const i = table.indexOf(".");
    return i < 0 ? [await defaultSchema(), table] : [table.slice(0, i), table.slice(i + 1)];
  };
  const c = (col: string) => sql.id(col);
  const epochNumeric = (v: ReturnType<typeof c>, type: string) =>
    sql<number>`(case when ${v} > ${typedNumber(MS_THRESHOLD, type)} then ${v} / 1000.0 else ${v} end)`;
  return {
    name: "postgres",
    async boundedLockWait(on, fn) {
      // SET LOCAL after the caller's savepoint: a failed delete's rollback to it undoes this as well.
      await sql`set local lock_timeout = ${sql.raw(String(ROW_LOCK_TIMEOUT_MS))}`.execute(on);
      const r = await fn();
      await sql`set local lock_timeout to default`.execute(on);
      return r;
    },
    db,
    async introspect(table) {
      const [ns, name] = await splitTable(table);
      const cols = await sql<{ column_name: string; data_type: string }>`select column_name, data_type
        from information_schema.columns where table_schema = ${ns} and table_name = ${name}`.execute(db);
      if (cols.rows.length === 0) return undefined;
      // Each index's leading column, and whether it alone names at most one row: unique, one key column (INCLUDE
      // columns do not count), no predicate, no expression.
      const idx = await sql<{ col: string; one: boolean }>`select a.attname as col,
          (i.indisunique and i.indnkeyatts = 1 and i.indpred is null and i.indexprs is null) as one from pg_index i
        join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace
        join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0]
        where n.nspname = ${ns} and t.relname = ${name}`.execute(db);
      return {
        columns: new Map(
          cols.rows.map((r) => [r.column_name, { name: r.column_name, type: r.data_type.toLowerCase() }]),
        ),
        indexed: new Set(idx.rows.map((r) => r.col)),
        uniqueColumns: new Set(idx.rows.filter((r) => r.one).map((r) => r.col)),
      };
    },
    async qualify(table) {
      return table.includes(".") ? table : `${await defaultSchema()}.${table}`;
    },
    async listTables() {
      const r = await sql<{ t: string }>`select case when table_schema = ${await defaultSchema()} then table_name
        else table_schema || '.' || table_name end as t from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
          and not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = table_schema and c.relname = table_name and c.relispartition)`.execute(db);
      return r.rows.map((x) => x.t);
    },
    async sampleValues(table, column, n, maxChars) {
      if (!/^(text|character varying|character|json|jsonb|user-defined)/.test(column.type)) return [];
      const [ns, name] = await splitTable(table);
      const qualified = sql.id(ns, name);
      const est = await sql<{ n: number }>`select c.reltuples::float8 as n from pg_class c
        join pg_namespace ns on ns.oid = c.relnamespace where ns.nspname = ${ns} and c.relname = ${name}`.execute(db);
      const rows = Number(est.rows[0]?.n ?? -1);
      const v = sql`left(${c(column.name)}::text, ${maxChars})`;
      // Large tables: a block sample sized for about five times n rows; small ones are shuffled whole.
      const from =
        rows > 20 * n
          ? sql`${qualified} tablesample system (${sql.lit(Math.min(100, Math.max(0.01, (500 * n) / rows)))})`
          : qualified;
      const r = await sql<{ v: string }>`select ${v} as v from ${from} where ${c(column.name)} is not null
        order by random() limit ${n}`.execute(db);
      return r.rows.map((x) => x.v);
    },
    async detectEncoding(_table: string, column: ColumnInfo): Promise<TsEncoding> {
      if (column.type.startsWith("timestamp") || column.type === "date") return "native";
      if (NUMERIC.test(column.type)) return "epoch";
      if (TEXTUAL.test(column.type)) return "text";
      return "mixed";
    },
    epochSeconds(column, enc, type) {
      const v = c(column);
      if (enc === "native") {
        if (type === "timestamp with time zone") return sql<number>`extract(epoch from ${v})::float8`;
        // timestamp without time zone and date: their epoch is taken as UTC.
        return sql<number>`extract(epoch from ${v}::timestamp)::float8`;
      }
      if (enc === "epoch") return sql<number>`${epochNumeric(v, type)}::float8`;
      return sql<number | null>`(case
        when ${v} ~ '^\\d+$' then (case when ${v}::numeric > ${MS_THRESHOLD} then ${v}::numeric / 1000.0 else ${v}::numeric end)::float8
        when ${v} ~* ${ISO_RE} then extract(epoch from replace(${v}, ',', '.')::timestamptz)::float8
      end)`;
    },
    rangeBound(column, enc, type, cutoff) {
      const v = c(column);
      if (enc === "native") {
        if (type === "timestamp with time zone") return sql<boolean>`${v} <= to_timestamp(${cutoff})`;
        if (type === "date") return sql<boolean>`${v} <= (to_timestamp(${cutoff}) at time zone 'UTC')::date`;
        return sql<boolean>`${v} <= (to_timestamp(${cutoff}) at time zone 'UTC')`;
      }
      if (enc === "epoch")
        return sql<boolean>`(${v} <= ${typedNumber(cutoff, type)} or (${v} > ${typedNumber(MS_THRESHOLD, type)} and ${v} <= ${typedNumber(cutoff * 1000, type)}))`;
      if (enc === "text") return sql<boolean>`${v} < ${isoDateBound(cutoff)}`;
      return undefined;
    },
    retentionNumber(column, type) {
      const v = c(column);
      if (NUMERIC.test(type)) return sql<number | null>`${v}::float8`;
      // A text column: only a plain number counts; anything else ("forever", "1 year") never expires.
      return sql<number | null>`(case when ${v}::text ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$' then ${v}::text::float8 end)`;
    },
    // Text keeps microseconds and offsets that a JS Date would lose; the cast restores the column type.
    cursorValue: (column) => sql`${c(column)}::text`,
    cursorParam: (value, type) => sql`cast(${String(value)} as ${sql.raw(/^[a-z ]+$/.test(type) ? type : "text")})`,
    inList(column, type, values) {
      const arrayType = ARRAY_TYPE[type] ?? "text[]";
      const col = arrayType === "text[]" ? sql`${c(column)}::text` : c(column);
      return sql<boolean>`${col} = any(${values.map(String)}::${sql.raw(arrayType)})`;
    },
    // Deterministic collations (the default) already compare text exactly.
    equalsExactly: (column, value) => sql<boolean>`${c(column)} = ${value}`,
    comparable(type, value) {
      if (NUMERIC.test(type)) return /^-?\d+(\.\d+)?$/.test(value);
      if (type === "uuid") return /^[0-9a-f-]{32,36}$/i.test(value);
      return true;
    },
    async scrub() {
      // Dead tuples stay until VACUUM; documented in the README.
    },
    async *stream(query, batchSize) {
      const { sql: text, parameters } = query.compile(db);
      const client = await pool.connect();
      let done = false;
      try {
        await client.query("begin isolation level repeatable read read only");
        await client.query(`declare lethe_rows no scroll cursor for ${text}`, parameters as unknown[]);
        const n = Math.floor(batchSize);
        const fetch = (): Promise<pg.QueryResult> => {
          const p = client.query(`fetch forward ${n} from lethe_rows`);
          p.catch(() => undefined); // awaited below; a consumer that stops early must not leave it unhandled
          return p;
        };
        // One batch read ahead: the next rows travel while the consumer works on these.
        for (let next: ReturnType<typeof fetch> | undefined = fetch(); next; ) {
          const r: pg.QueryResult = await next;
          next = r.rows.length < n ? undefined : fetch();
          if (r.rows.length > 0) yield r.rows as Record<string, unknown>[];
        }
        await client.query("commit");
        done = true;
      } finally {
        // A consumer that stops early, or an error: the cursor's transaction must not stay open.
        if (!done) await client.query("rollback").catch(() => undefined);
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

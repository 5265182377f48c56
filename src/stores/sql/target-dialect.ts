import type { Kysely, RawBuilder } from "kysely";
import type { PurgeMode, PurgeReport } from "../../core/types.js";

/**
 * How a timestamp column is encoded, detected per column at load:
 * - `epoch`: integer/real epoch seconds or milliseconds (told apart per row by magnitude)
 * - `text`: ISO-8601 text, with or without `T`, fraction and zone (no zone = UTC)
 * - `native`: a real timestamp/timestamptz/date column (PostgreSQL)
 * - `mixed`: values of several kinds; still exact, but no index range is possible
 */
export type TsEncoding = "epoch" | "text" | "native" | "mixed" | "empty";

export interface ColumnInfo {
  name: string;
  /** Declared type, lower case (`integer`, `text`, `timestamp with time zone`…). */
  type: string;
}

export interface TableInfo {
  columns: Map<string, ColumnInfo>;
  /** Columns that lead some index (an index on them can serve equality and ranges). */
  indexed: Set<string>;
  /**
   * Why deleting this table's rows cannot delete their data, when it cannot (a MariaDB system-versioned table
   * keeps every deleted row in its history): the dataset is refused at load, before anything is deleted.
   */
  undeletable?: string;
  /**
   * Columns that alone make up a PRIMARY KEY or a (non-partial) UNIQUE index: each value names at most one row.
   * A key outside this set may name rows of several subjects (see SqlColumns.keyUnique).
   */
  uniqueColumns: Set<string>;
}

// Kysely's raw builders execute against any Kysely instance; targets have no static schema.
export type AnyDb = Kysely<unknown>;

/**
 * What differs between SQLite, PostgreSQL and MariaDB/MySQL as deletion targets. Every
 * identifier reaches SQL through `sql.id`/`sql.table` (quoted), every value
 * as a parameter.
 */
/**
 * Deletes the rows of `table` that `where` selects and returns `select` (which
 * names the key `k`) for exactly the rows removed, atomically.
 */
export type DeleteRows = (
  table: RawBuilder<unknown>,
  key: string,
  keyType: string,
  where: RawBuilder<boolean>,
  select: RawBuilder<unknown>,
) => Promise<Record<string, unknown>[]>;

export interface TargetDialect {
  readonly name: "sqlite" | "postgres" | "mysql";
  readonly db: AnyDb;
  introspect(table: string): Promise<TableInfo | undefined>;
  /**
   * The table as every statement names it, whatever connection runs it: on
   * PostgreSQL qualified by the schema an unqualified name resolves to on the
   * store's own connection (a same-database delete runs on lethe's state
   * connection, whose search_path is lethe's schema). A name with a schema
   * keeps it. Engines without schemas: absent, the name as written.
   */
  qualify?(table: string): Promise<string>;
  /**
   * Runs `fn` (a delete inside a transaction of lethe's state, same-database mode) with the lock wait the
   * target's own connections have, restored afterwards so lethe's ledger writes in that transaction keep theirs.
   */
  boundedLockWait?<T>(db: AnyDb, fn: () => Promise<T>): Promise<T>;
  listTables(): Promise<string[]>;
  detectEncoding(table: string, column: ColumnInfo): Promise<TsEncoding>;
  /**
   * Why a creation column of this declared type holds no instant lethe can read (MariaDB/MySQL `YEAR`, `TIME`,
   * `BIT`…), or undefined: such a dataset is refused at load rather than read as something else.
   */
  unreadableTimeType?(colType: string): string | undefined;
  /** The column's instant as epoch seconds (NULL when unreadable). */
  epochSeconds(column: string, enc: TsEncoding, colType: string): RawBuilder<number | null>;
  /** A per-row retention column's value as a number, NULL (never expires) when it is not a plain number. */
  retentionNumber(column: string, colType: string): RawBuilder<number | null>;
  /** An index-friendly superset predicate for `epochSeconds(column) <= cutoff`, if one exists. */
  rangeBound(column: string, enc: TsEncoding, colType: string, cutoff: number): RawBuilder<boolean> | undefined;
  /** The column's value in a form that round-trips exactly as a query parameter (page cursors). */
  cursorValue(column: string): RawBuilder<unknown>;
  /** A cursor value as a parameter comparable with the column. */
  cursorParam(value: unknown, colType: string): RawBuilder<unknown>;
  /** `column IN (keys)` as one parameter, whatever the number of keys. */
  inList(column: string, colType: string, values: (string | number)[]): RawBuilder<boolean>;
  /** `column = value`, compared byte for byte whatever the column's collation: subject ids are exact. */
  equalsExactly(column: string, value: string): RawBuilder<boolean>;
  /** Can `value` ever equal a value of this column type? (avoids cast errors) */
  comparable(colType: string, value: string): boolean;
  /** A batch delete other than `DELETE … RETURNING` (MySQL has none: a locking read, then the delete). */
  deleteRows?: DeleteRows;
  /**
   * After an erasure: search the files for the erased values and rewrite them away (SQLite); waits up
   * to `windowMs` for other erasures of this process to share the pass.
   */
  purge?(store: string, values: string[], mode: PurgeMode, windowMs?: number): Promise<PurgeReport>;
  /** After deletions: make removed bytes unrecoverable from the files where the engine allows. */
  scrub(): Promise<void>;
  /**
   * Up to `n` non-null values of a text-like column, as random as the engine
   * allows cheaply, each cut to `maxChars` (`lethe discover`); [] for a column
   * that is not text-like.
   */
  sampleValues?(table: string, column: ColumnInfo, n: number, maxChars: number): Promise<string[]>;
  /** Rows of `query` in batches through a server-side cursor on a connection of its own (PostgreSQL). */
  stream?(query: RawBuilder<unknown>, batchSize: number): AsyncIterable<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Date part of (cutoff + 2 days): every ISO text at or before cutoff sorts below it, whatever its zone. */
export function isoDateBound(cutoff: number): string {
  return new Date((cutoff + 2 * 86_400) * 1000).toISOString().slice(0, 10);
}

/** Epoch seconds above this are taken to be milliseconds (1e11 s is the year 5138). */
export const MS_THRESHOLD = 100_000_000_000;

import { type RawBuilder, sql } from "kysely";
import type { DatasetConfig } from "../../config/types.js";
import { expiryDayBounds } from "../../core/expiry-days.js";
import { safeReason } from "../../core/safe-reason.js";
import { rejectedByDatabase } from "../../core/statement-error.js";
import type {
  DatasetCapabilities,
  DatasetDriver,
  DeleteOptions,
  DeleteResult,
  ExpiredSummary,
  Item,
  PartitionDriver,
  TransactionalDelete,
} from "../../core/types.js";
import type { AnyDb, TargetDialect, TsEncoding } from "./target-dialect.js";

export interface SqlColumns {
  /** The table as statements name it (schema-qualified on PostgreSQL, see TargetDialect.qualify). */
  table: string;
  key: string;
  keyType: string;
  subject: string | undefined;
  subjectType: string;
  createdAt: string | undefined;
  createdType: string;
  /** The creation column leads an index, so scans can page along it. */
  createdIndexed: boolean;
  encoding: TsEncoding;
  file: string | undefined;
  /** Type of the per-row retention column ("" without one). */
  retentionType: string;
  /** The key alone is a PRIMARY KEY or UNIQUE index; otherwise a key may name rows of several subjects. */
  keyUnique: boolean;
}

export interface Row {
  k: string | number;
  s?: string | number | null;
  f?: string | null;
  e?: number | null;
}

/** The select list every item query uses: key as `k`, subject `s`, linked file `f`, expiry `e`. */
export function itemColumns(cols: SqlColumns, expiresAt: RawBuilder<unknown>): RawBuilder<unknown> {
  const { key, subject, file } = cols;
  return sql`${sql.id(key)} as k, ${subject ? sql`${sql.id(subject)} as s, ` : sql``}${file ? sql`${sql.id(file)} as f, ` : sql``}${expiresAt} as e`;
}

export function rowToItem(r: Row): Item {
  const item: Item = { key: r.k };
  if (r.s !== undefined) item.subject = r.s === null ? null : String(r.s);
  if (r.f !== undefined) item.file = r.f;
  if (typeof r.e === "number") item.expiresAt = r.e;
  return item;
}

const FALSE = sql<boolean>`1 = 0`;

/**
 * A table as a dataset. Expiry is computed in SQL (an index range on the
 * creation column plus the exact per-encoding check), deletes are one
 * `DELETE … WHERE key IN (…) RETURNING` per batch, never row by row.
 */
export class SqlDataset implements DatasetDriver {
  readonly capabilities: DatasetCapabilities;
  readonly transactional?: TransactionalDelete;
  private readonly t: RawBuilder<unknown>;

  constructor(
    readonly config: DatasetConfig,
    private readonly d: TargetDialect,
    private readonly cols: SqlColumns,
    /** Set when expired range partitions can be dropped whole (PostgreSQL). */
    readonly partitions?: PartitionDriver,
    /** The store's URL: offered for same-database deletes where the dialect deletes in one statement. */
    database?: string,
  ) {
    this.t = sql.table(cols.table);
    this.capabilities = {
      exactDeletes: true,
      subjects: cols.subject !== undefined,
      bytes: false,
      linkedFiles: cols.file !== undefined,
    };
    // MySQL's locking read + delete runs on its own connection, and lethe's state is never MySQL.
    if (database && !d.deleteRows)
      this.transactional = {
        database,
        deleteBatchIn: (tx, items, opts) => this.deleteOn(tx, items, opts, true),
      };
  }

  /**
   * `expired(now)` as SQL: `where` adds an index range on the creation column
   * (for scans); `exact` has none, for statements driven by a key list, where
   * a range would tempt the planner away from the primary key lookups.
   */
  private async expiry(
    now: Date,
    withBound = true,
  ): Promise<{ where: RawBuilder<boolean>; exact: RawBuilder<boolean>; expiresAt: RawBuilder<number | null> }> {
    const r = this.config.retention;
    const { createdAt, encoding, createdType } = this.cols;
    if (r.kind === "never" || !createdAt) return { where: FALSE, exact: FALSE, expiresAt: sql<null>`null` };
    const nowS = now.getTime() / 1000;
    const created = this.d.epochSeconds(createdAt, encoding, createdType);
    if (r.kind === "duration") {
      const cutoff = nowS - r.seconds;
      const bound = this.d.rangeBound(createdAt, encoding, createdType, cutoff);
      const exact = sql<boolean>`${created} <= ${cutoff}`;
      return {
        where: bound ? sql<boolean>`(${bound} and ${exact})` : exact,
        exact,
        expiresAt: sql<number>`(${created} + ${r.seconds})`,
      };
    }
    const ret = this.d.retentionNumber(r.column, this.cols.retentionType);
    const expiresAt = sql<number>`(${created} + ${ret} * ${r.unitSeconds})`;
    // A negative lifetime is no lifetime: like NULL, the row never expires (rather than at once).
    const exact = sql<boolean>`(${ret} >= 0 and ${expiresAt} <= ${nowS})`;
    if (!withBound) return { where: exact, exact, expiresAt };
    const min = await sql<{ m: number | null }>`select min(${ret}) as m from ${this.t}`.execute(this.d.db);
    const minRet = Math.max(0, Number(min.rows[0]?.m ?? 0));
    if (!Number.isFinite(minRet)) return { where: exact, exact, expiresAt };
    // Bounding by the smallest per-row retention lets the creation index narrow the scan.
    const bound = this.d.rangeBound(createdAt, encoding, createdType, nowS - minRet * r.unitSeconds);
    return { where: bound ? sql<boolean>`(${bound} and ${exact})` : exact, exact, expiresAt };
  }

  private select(expiresAt: RawBuilder<unknown>) {
    return itemColumns(this.cols, expiresAt);
  }

  private toItem(r: Row): Item {
    return rowToItem(r);
  }

  async count(): Promise<number> {
    const r = await sql<{ n: number }>`select count(*) as n from ${this.t}`.execute(this.d.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  async summarizeExpired(now: Date, opts: { bySubject?: boolean } = {}): Promise<ExpiredSummary> {
    const { where } = await this.expiry(now);
    const n = await sql<{ n: number }>`select count(*) as n from ${this.t} where ${where}`.execute(this.d.db);
    const out: ExpiredSummary = { expired: Number(n.rows[0]?.n ?? 0) };
    if (opts.bySubject && this.cols.subject && out.expired > 0) {
      const s = sql.id(this.cols.subject);
      const g = await sql<{ s: string | number | null; n: number }>`select ${s} as s, count(*) as n from ${this.t}
        where ${where} group by ${s}`.execute(this.d.db);
      out.bySubject = new Map(g.rows.filter((r) => r.s !== null).map((r) => [String(r.s), Number(r.n)]));
    }
    return out;
  }

  async *scanExpired(now: Date, batchSize: number): AsyncIterable<Item[]> {
    const { where, expiresAt } = await this.expiry(now);
    if (this.cols.createdIndexed && this.cols.createdAt) yield* this.pagesByCreation(where, expiresAt, batchSize);
    else yield* this.pages(where, expiresAt, batchSize);
  }

  /**
   * Pages in (creation, key) order, resuming from the last row's raw values:
   * each page continues along the creation index instead of re-reading (and
   * re-sorting) the whole expired range, which key order would do.
   */
  private async *pagesByCreation(
    where: RawBuilder<boolean>,
    expiresAt: RawBuilder<unknown>,
    n: number,
  ): AsyncIterable<Item[]> {
    const key = sql.id(this.cols.key);
    const c = sql.id(this.cols.createdAt as string);
    const cursor = this.d.cursorValue(this.cols.createdAt as string);
    let after: { c: unknown; k: string | number } | undefined;
    for (;;) {
      const lc = after ? this.d.cursorParam(after.c, this.cols.createdType) : undefined;
      const page = after && lc ? sql` and ${c} >= ${lc} and (${c} > ${lc} or ${key} > ${after.k})` : sql``;
      const r = await sql<Row & { cur: unknown }>`select ${this.select(expiresAt)}, ${cursor} as cur from ${this.t}
        where ${where}${page} order by ${c}, ${key} limit ${n}`.execute(this.d.db);
      if (r.rows.length === 0) return;
      yield r.rows.map((row) => this.toItem(row));
      if (r.rows.length < n) return;
      const last = r.rows[r.rows.length - 1] as Row & { cur: unknown };
      after = { c: last.cur, k: last.k };
    }
  }

  private async *pages(where: RawBuilder<boolean>, expiresAt: RawBuilder<unknown>, n: number): AsyncIterable<Item[]> {
    const key = sql.id(this.cols.key);
    let after: string | number | undefined;
    for (;;) {
      const page = after === undefined ? sql`` : sql` and ${key} > ${after}`;
      const r = await sql<Row>`select ${this.select(expiresAt)} from ${this.t} where ${where}${page}
        order by ${key} limit ${n}`.execute(this.d.db);
      if (r.rows.length === 0) return;
      yield r.rows.map((row) => this.toItem(row));
      if (r.rows.length < n) return;
      after = (r.rows[r.rows.length - 1] as Row).k;
    }
  }

  async fetchExpired(keys: Item["key"][], now: Date): Promise<Item[]> {
    if (keys.length === 0) return [];
    const { exact, expiresAt } = await this.expiry(now, false);
    const r = await sql<Row>`select ${this.select(expiresAt)} from ${this.t}
      where ${this.d.inList(this.cols.key, this.cols.keyType, keys)} and ${exact}`.execute(this.d.db);
    return r.rows.map((row) => this.toItem(row));
  }

  async findItems(keys: Item["key"][]): Promise<Item[]> {
    // A key the column's type cannot hold ("abc" for an integer key) names no row; it is not an error.
    const usable = keys.filter((k) => this.d.comparable(this.cols.keyType, String(k)));
    const find = async (ks: Item["key"][]) =>
      (
        await sql<Row>`select ${this.select(sql`null`)} from ${this.t}
          where ${this.d.inList(this.cols.key, this.cols.keyType, ks)}`.execute(this.d.db)
      ).rows.map((row) => this.toItem(row));
    if (usable.length === 0) return [];
    try {
      return await find(usable);
    } catch (err) {
      // Out of the column's range, say: find which keys the database refuses, and leave those out.
      if (!rejectedByDatabase(err)) throw err;
      const out: Item[] = [];
      for (const k of usable)
        try {
          out.push(...(await find([k])));
        } catch (keyErr) {
          if (!rejectedByDatabase(keyErr)) throw keyErr;
        }
      return out;
    }
  }

  async *list(batchSize: number): AsyncIterable<Item[]> {
    yield* this.pages(sql<boolean>`1 = 1`, sql`null`, batchSize);
  }

  async *scanSubject(subject: string, batchSize: number): AsyncIterable<Item[]> {
    const col = this.cols.subject;
    if (!col || !this.d.comparable(this.cols.subjectType, subject)) return;
    yield* this.pages(this.d.equalsExactly(col, subject), sql`null`, batchSize);
  }

  deleteBatch(items: Item[], opts: DeleteOptions): Promise<DeleteResult> {
    return this.deleteOn(this.d.db, items, opts, false);
  }

  /**
   * One `DELETE … RETURNING` for the batch on `db` (the target's pool, or a
   * transaction of lethe's state on the same database). Inside a transaction
   * each attempt runs under a savepoint, so a refused statement leaves the
   * transaction usable for the row-by-row retry.
   */
  private async deleteOn(db: AnyDb, items: Item[], opts: DeleteOptions, inTx: boolean): Promise<DeleteResult> {
    if (items.length === 0) return { deleted: [], failed: [] };
    // A partitioned table keeps the creation range: without it every partition's key index is probed per key.
    const expiry = opts.expiredAt ? await this.expiry(opts.expiredAt, this.partitions !== undefined) : undefined;
    const guard = expiry ? (this.partitions ? expiry.where : expiry.exact) : sql<boolean>`1 = 1`;
    const once = async (batch: Item[]) => {
      const keys = batch.map((i) => i.key);
      const where = sql<boolean>`${this.d.inList(this.cols.key, this.cols.keyType, keys)} and ${guard} and ${this.sameSubjects(batch)}`;
      const select = this.select(sql`null`);
      const rows = this.d.deleteRows
        ? ((await this.d.deleteRows(this.t, this.cols.key, this.cols.keyType, where, select)) as unknown as Row[])
        : (await sql<Row>`delete from ${this.t} where ${where} returning ${select}`.execute(db)).rows;
      return rows.map((row) => this.toItem(row));
    };
    const bounded = (batch: Item[]) =>
      this.d.boundedLockWait ? this.d.boundedLockWait(db, () => once(batch)) : once(batch);
    const run = inTx ? (batch: Item[]) => underSavepoint(db, () => bounded(batch)) : once;
    try {
      return { deleted: await run(items), failed: [] };
    } catch (err) {
      // The reply was lost, not refused: the DELETE may have committed. Retrying row by row would delete
      // nothing and hide that; the executor asks which keys still exist instead.
      if (!rejectedByDatabase(err)) return { deleted: [], failed: [], unknown: items };
      // One bad row (a foreign key, a trigger) must not fail its whole batch: isolate it.
      const out: DeleteResult = { deleted: [], failed: [] };
      const unknown: Item[] = [];
      for (const item of items) {
        try {
          out.deleted.push(...(await run([item])));
        } catch (rowErr) {
          if (rejectedByDatabase(rowErr)) out.failed.push({ item, reason: safeReason(rowErr) });
          else unknown.push(item);
        }
      }
      return unknown.length > 0 ? { ...out, unknown } : out;
    }
  }

  /**
   * With a key that is not unique, another subject's row can share a batch item's key, and that subject may be
   * held (held items never reach a batch): the delete then also matches the subjects the batch was read with.
   * Items named by key alone (events) carry no subject and delete every row of the key, as the event asks.
   */
  private sameSubjects(batch: Item[]): RawBuilder<boolean> {
    const col = this.cols.subject;
    if (this.cols.keyUnique || !col || batch.some((i) => i.subject === undefined)) return sql<boolean>`1 = 1`;
    const named = [...new Set(batch.flatMap((i) => (typeof i.subject === "string" ? [i.subject] : [])))];
    const inNamed = named.length > 0 ? this.d.inList(col, this.cols.subjectType, named) : sql<boolean>`1 = 0`;
    return batch.some((i) => i.subject === null)
      ? sql<boolean>`(${inNamed} or ${sql.id(col)} is null)`
      : sql<boolean>`(${inNamed})`;
  }

  async contents(items: Item[]): Promise<string[]> {
    if (items.length === 0) return [];
    const r = await sql<Record<string, unknown>>`select * from ${this.t}
      where ${this.d.inList(
        this.cols.key,
        this.cols.keyType,
        items.map((i) => i.key),
      )}`.execute(this.d.db);
    return distinctiveValues(r.rows);
  }

  async existing(keys: Item["key"][]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const r = await sql<{ k: string | number }>`select ${sql.id(this.cols.key)} as k from ${this.t}
      where ${this.d.inList(this.cols.key, this.cols.keyType, keys)}`.execute(this.d.db);
    return new Set(r.rows.map((row) => String(row.k)));
  }

  async filesInUse(paths: string[]): Promise<Set<string>> {
    const file = this.cols.file;
    if (!file || paths.length === 0) return new Set();
    const r = await sql<{ f: string }>`select distinct ${sql.id(file)} as f from ${this.t}
      where ${this.d.inList(file, "text", paths)}`.execute(this.d.db);
    return new Set(r.rows.map((row) => String(row.f)));
  }

  async expiryHistogram(now: Date, days: number): Promise<number[]> {
    const bounds = expiryDayBounds(now, days);
    if (this.config.retention.kind === "never") return new Array(days).fill(0);
    const { expiresAt } = await this.expiry(now);
    // One pass: each row's expiry is computed once in the subquery, then counted into its day.
    const buckets = bounds
      .slice(0, -1)
      .map((lo, i) => sql`sum(case when e >= ${lo} and e < ${bounds[i + 1]} then 1 else 0 end) as ${sql.id(`d${i}`)}`);
    const r = await sql<Record<string, number | string | null>>`select ${sql.join(buckets)}
      from (select ${expiresAt} as e from ${this.t}) as s
      where e >= ${bounds[0]} and e < ${bounds[days]}`.execute(this.d.db);
    const row = r.rows[0] ?? {};
    return bounds.slice(0, -1).map((_, i) => Number(row[`d${i}`] ?? 0));
  }

  async oldestExpiry(now: Date): Promise<number | undefined> {
    const { where, expiresAt } = await this.expiry(now);
    const r = await sql<{ m: number | null }>`select min(${expiresAt}) as m from ${this.t} where ${where}`.execute(
      this.d.db,
    );
    const m = r.rows[0]?.m;
    return m === null || m === undefined ? undefined : Number(m);
  }
}

/** Runs `fn` under a savepoint of the caller's transaction: a refused statement undoes only itself. */
async function underSavepoint<T>(db: AnyDb, fn: () => Promise<T>): Promise<T> {
  await sql`savepoint lethe_delete`.execute(db);
  try {
    const r = await fn();
    await sql`release savepoint lethe_delete`.execute(db);
    return r;
  } catch (err) {
    // A lost connection fails this too; the caller sees the first error and rolls the transaction back.
    await sql`rollback to savepoint lethe_delete`
      .execute(db)
      .then(() => sql`release savepoint lethe_delete`.execute(db))
      .catch(() => undefined);
    throw err;
  }
}

/** Timestamps and numbers recur across many rows; searching files for them proves nothing. */
const COMMON = /^[\d\s:.+\-TZ]*$/;
const MIN_DISTINCT = 12;

/**
 * Text values long and specific enough to look for in a database file:
 * at least 12 characters, not a timestamp or number, and not repeated
 * within the rows (a value shared by several rows is likely categorical,
 * e.g. a model name, and would also be found in everyone else's rows).
 */
export function distinctiveValues(rows: Record<string, unknown>[]): string[] {
  const seen = new Map<string, number>();
  for (const row of rows)
    for (const v of Object.values(row))
      if (typeof v === "string" && v.length >= MIN_DISTINCT && !COMMON.test(v)) seen.set(v, (seen.get(v) ?? 0) + 1);
  return [...seen].filter(([, n]) => n === 1 || rows.length === 1).map(([v]) => v);
}

import { createHash } from "node:crypto";
import { type RawBuilder, sql } from "kysely";
import { LetheError } from "../../core/errors.js";
import { codedReason } from "../../core/safe-reason.js";
import { rejectedByDatabase } from "../../core/statement-error.js";
import type { Item, Partition, PartitionDriver, PartitionStatus } from "../../core/types.js";
import type { Row } from "./sql-dataset.js";
import { type AnyDb, MS_THRESHOLD, type TargetDialect } from "./target-dialect.js";

/** The range partitioning of a table, when it is partitioned by RANGE on exactly one column. */
export interface RangeKey {
  schema: string;
  table: string;
  column: string;
}

/**
 * How the dataset's table is partitioned, if by RANGE on `column` alone
 * (plain declarative partitioning, and the tables pg_partman makes).
 *
 * @example
 * const key = await rangePartitioning(target, "public", "events", "created_at");
 */
export async function rangePartitioning(
  target: TargetDialect,
  schema: string,
  table: string,
  column: string,
): Promise<RangeKey | undefined> {
  const r = await sql<{ strat: string; n: number; col: string }>`select pt.partstrat as strat, pt.partnatts as n,
      a.attname as col from pg_partitioned_table pt join pg_class c on c.oid = pt.partrelid
      join pg_namespace ns on ns.oid = c.relnamespace
      left join pg_attribute a on a.attrelid = c.oid and a.attnum = pt.partattrs[0]
    where ns.nspname = ${schema} and c.relname = ${table}`.execute(target.db);
  const row = r.rows[0];
  if (row?.strat !== "r" || Number(row?.n) !== 1 || row?.col !== column) return undefined;
  return { schema, table, column };
}

/** Rows per FETCH from a server-side cursor: few round trips, bounded memory. */
const FETCH_ROWS = 20_000;

/** Partitions digested at the same time, each on its own connection (the pool has four). */
const DIGEST_CONNECTIONS = 2;

/** Above this heap size a key digest is streamed to lethe instead (PostgreSQL caps one text value at 1 GB). */
const DIGEST_IN_DB_BYTES = 256 * 1024 * 1024;

/** How long detaching or dropping waits for a lock the application holds before the partitions go the row way. */
export const LOCK_TIMEOUT_MS = 2000;

/** lock_not_available (lock_timeout) and query_canceled (the statement_timeout bounding the LOCK statement). */
const LOCK_WAIT = new Set(["55P03", "57014"]);

/**
 * A failed partition step as a coded error: no stack trace, and nothing of the database's words (a trigger's
 * RAISE or a constraint's detail may quote a row or a key; the text reaches the run result and the ledger),
 * only the SQLSTATE or errno code with its stable meaning.
 */
function partitionError(step: string, err: unknown, lockTimeoutMs: number): LetheError {
  const refused = rejectedByDatabase(err);
  const code = (err as { code?: unknown }).code;
  const why =
    refused && LOCK_WAIT.has(String(code))
      ? `the application held a lock on the table for longer than ${lockTimeoutMs / 1000} s`
      : refused
        ? `PostgreSQL refused it (${codedReason(err)})`
        : `the outcome is unknown (${codedReason(err)})`;
  return new LetheError("STORE_ERROR", `${step}: ${why}`, { refused }, { cause: err });
}

const BOUNDS = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/;

/** A bound as printed by `pg_get_expr`: a quoted literal, a number, MINVALUE or MAXVALUE. */
function literal(bound: string): string | undefined {
  if (bound === "MINVALUE" || bound === "MAXVALUE") return undefined;
  if (bound.startsWith("'") && bound.endsWith("'")) return bound.slice(1, -1).replaceAll("''", "'");
  return bound;
}

/**
 * Partitions of one range-partitioned PostgreSQL table. Which partitions are
 * wholly expired is decided from the catalog's bounds with the same epoch
 * rule as row expiry: a partition `[from, to)` is expired when `to` is at or
 * before the cutoff (every row in it is earlier). Epoch-number columns count
 * as seconds or milliseconds by magnitude, as for rows, so a partition
 * straddling the two is never dropped.
 *
 * @example
 * const parts = await partitionsOf(target, ds, cols); // a PgPartitions when the table is range-partitioned
 * for (const p of (await parts?.expired(new Date())) ?? []) console.log(p.name, p.from, p.to);
 */
export class PgPartitions implements PartitionDriver {
  private presorted: boolean | undefined;

  constructor(
    private readonly target: TargetDialect,
    private readonly key: RangeKey,
    /** The creation column's type (`timestamp with time zone`, `bigint`…). */
    private readonly colType: string,
    /** Seconds after which a row expires (duration retention only). */
    private readonly retentionSeconds: number,
    /** The dataset's item columns and how a row becomes an item (shared with row deletes). */
    private readonly rows: { select: RawBuilder<unknown>; key: string; toItem: (r: Row) => Item; subject?: string },
    /** Partitions whose heap is at most this size get their key digest aggregated inside PostgreSQL. */
    private readonly digestInDbBytes = DIGEST_IN_DB_BYTES,
    /** How long a DETACH or DROP waits for the application's locks (docs/partitions.md). */
    private readonly lockTimeoutMs = LOCK_TIMEOUT_MS,
  ) {}

  private id(p: Partition): RawBuilder<unknown> {
    const i = p.name.indexOf(".");
    return sql.id(p.name.slice(0, i), p.name.slice(i + 1));
  }

  private parent(): RawBuilder<unknown> {
    return sql.id(this.key.schema, this.key.table);
  }

  /** Epoch seconds of each upper bound (one query for all), or undefined where rows below it are not all comparable. */
  private async upperEpochs(bounds: { lower?: string; upper: string }[]): Promise<(number | undefined)[]> {
    if (/^(smallint|integer|bigint|numeric|real|double precision|decimal)/.test(this.colType))
      return bounds.map(({ lower, upper }) => {
        const hi = Number(upper);
        const lo = lower === undefined ? Number.NEGATIVE_INFINITY : Number(lower);
        if (!Number.isFinite(hi)) return undefined;
        if (hi <= MS_THRESHOLD + 1) return hi; // every value is epoch seconds
        return lo > MS_THRESHOLD ? hi / 1000 : undefined; // all milliseconds, or a mix: never dropped
      });
    if (bounds.length === 0) return [];
    const u = sql.ref("u");
    const cast =
      this.colType === "timestamp with time zone"
        ? sql`cast(${u} as timestamptz)`
        : this.colType === "date"
          ? sql`cast(${u} as date)::timestamp`
          : sql`cast(${u} as timestamp)`;
    const r = await sql<{ e: number | null }>`select extract(epoch from ${cast})::float8 as e
      from unnest(cast(${bounds.map((b) => b.upper)} as text[])) with ordinality as t(u, i) order by i`.execute(
      this.target.db,
    );
    return r.rows.map((row) => (row.e === null || row.e === undefined ? undefined : Number(row.e)));
  }

  async expired(now: Date): Promise<Partition[]> {
    const cutoff = now.getTime() / 1000 - this.retentionSeconds;
    // Only partitions whose whole tree is local tables, and that no foreign key references, may be dropped:
    // dropping a foreign table (postgres_fdw) drops its definition, not the remote rows; detaching a referenced
    // one is refused by PostgreSQL, and a row delete is what cascades as the application expects. Those go the
    // row way, like the boundary partition.
    const r = await sql<{ ns: string; name: string; bound: string; droppable: boolean }>`select cn.nspname as ns,
        c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound,
        not exists (select 1 from pg_partition_tree(c.oid) t join pg_class x on x.oid = t.relid
            where x.relkind not in ('r', 'p'))
          and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.confrelid in (
            select relid from pg_partition_tree(c.oid) union all select relid from pg_partition_ancestors(c.oid)))
          as droppable
      from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_namespace cn on cn.oid = c.relnamespace
      where i.inhparent = (select pc.oid from pg_class pc join pg_namespace pn on pn.oid = pc.relnamespace
        where pn.nspname = ${this.key.schema} and pc.relname = ${this.key.table})`.execute(this.target.db);
    const ranged: (Partition & { lower?: string; upper: string })[] = [];
    for (const row of r.rows) {
      const m = BOUNDS.exec(row.bound ?? "");
      if (!m || !row.droppable) continue; // DEFAULT (rows of any age), foreign or referenced: row-deleted
      const upper = literal(m[2] as string);
      if (upper === undefined) continue;
      ranged.push({
        name: `${row.ns}.${row.name}`,
        from: m[1] as string,
        to: m[2] as string,
        lower: literal(m[1] as string),
        upper,
      });
    }
    const epochs = await this.upperEpochs(ranged);
    return ranged
      .map(({ lower: _l, upper: _u, ...p }, i) => ({ p, e: epochs[i] }))
      .filter((x): x is { p: Partition; e: number } => x.e !== undefined && x.e <= cutoff)
      .sort((a, b) => a.e - b.e)
      .map((x) => x.p);
  }

  async *subjects(p: Partition, batchSize: number): AsyncIterable<string[]> {
    const s = this.rows.subject;
    if (!s) return;
    const q = sql`select distinct ${sql.id(s)}::text as s from ${this.id(p)} where ${sql.id(s)} is not null`;
    for await (const batch of this.stream(q, batchSize)) yield batch.map((r) => String(r.s));
  }

  async status(ps: Partition[], db: AnyDb = this.target.db): Promise<Map<string, PartitionStatus>> {
    const out = new Map<string, PartitionStatus>(ps.map((p) => [p.name, "gone"]));
    if (ps.length === 0) return out;
    // Attached to any table counts: a table that is some table's partition holds live rows.
    const r = await sql<{ name: string; attached: boolean }>`select n.nspname || '.' || c.relname as name,
        exists (select 1 from pg_inherits i where i.inhrelid = c.oid) as attached
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname || '.' || c.relname = any(cast(${ps.map((p) => p.name)} as text[]))
        and c.relkind in ('r', 'p')`.execute(db);
    for (const row of r.rows) out.set(row.name, row.attached ? "attached" : "detached");
    return out;
  }

  async detach(ps: Partition[]): Promise<void> {
    await this.exclusive("detaching partitions", [this.parent(), ...ps.map((p) => this.id(p))], async (trx) => {
      for (const p of ps) await sql`alter table ${this.parent()} detach partition ${this.id(p)}`.execute(trx);
    });
  }

  /**
   * One transaction that first takes ACCESS EXCLUSIVE locks on `tables`
   * (parent first, as DETACH does) in one statement bounded by the lock
   * timeout, then runs `body`. While DDL waits for such a lock every later
   * query of the table queues behind it, so the wait is short and a refusal
   * leaves the partitions for the row path (see partition-retention.ts).
   * Errors become STORE_ERROR; `details.refused` tells the statement was
   * rolled back (nothing happened).
   */
  private async exclusive(step: string, tables: RawBuilder<unknown>[], body: (trx: AnyDb) => Promise<void>) {
    const ms = `${this.lockTimeoutMs}ms`;
    try {
      await this.target.db.transaction().execute(async (trx) => {
        await sql`select set_config('lock_timeout', ${ms}, true), set_config('statement_timeout', ${ms}, true)`.execute(
          trx,
        );
        await sql`lock table ${sql.join(tables.map((t) => sql`only ${t}`))} in access exclusive mode`.execute(trx);
        await sql`set local statement_timeout to default`.execute(trx);
        await body(trx as unknown as AnyDb);
      });
    } catch (err) {
      throw partitionError(step, err, this.lockTimeoutMs);
    }
  }

  async *items(p: Partition, batchSize: number, afterKey?: Item["key"]): AsyncIterable<Item[]> {
    const k = sql.id(this.rows.key);
    const after = afterKey === undefined ? sql`` : sql` where ${k} > ${String(afterKey)}`;
    // Ordered by the table's column, never by an output alias of the same name (`"s" as k, "k" as s`).
    const q = sql`select ${this.rows.select} from ${this.id(p)} as t${after} order by t.${k}`;
    // Large fetches (one round trip per FETCH_ROWS rows), handed out in the dataset's batches.
    for await (const rows of this.stream(q, Math.max(batchSize, FETCH_ROWS)))
      for (let i = 0; i < rows.length; i += batchSize)
        yield rows.slice(i, i + batchSize).map((r) => this.rows.toItem(r as unknown as Row));
  }

  async digests(ps: Partition[]): Promise<Map<string, { rows: number; digest: string }>> {
    const out = new Map<string, { rows: number; digest: string }>();
    if (ps.length === 0) return out;
    const sizes = await sql<{
      name: string;
      b: number;
    }>`select p as name, pg_relation_size(cast(p as regclass))::float8 as b
      from unnest(cast(${ps.map((p) => p.name)} as text[])) as t(p)`.execute(this.target.db);
    const size = new Map(sizes.rows.map((r) => [r.name, Number(r.b)]));
    const ordered = await this.orderedAggregates();
    const queue = [...ps];
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift())
        out.set(
          p.name,
          ((size.get(p.name) ?? Number.POSITIVE_INFINITY) <= this.digestInDbBytes &&
            (await this.digestInDb(p, ordered))) ||
            (await this.digestStreamed(p)),
        );
    };
    await Promise.all(Array.from({ length: Math.min(DIGEST_CONNECTIONS, ps.length) }, worker));
    return out;
  }

  /**
   * One statement, nothing but the digest leaves the server. The keys' text is
   * about the heap's size at most; should it still not fit in one value
   * (compressed long keys), undefined: the caller streams instead.
   */
  private async digestInDb(p: Partition, ordered: boolean): Promise<{ rows: number; digest: string } | undefined> {
    const key = sql.id(this.rows.key);
    const hex = (agg: RawBuilder<unknown>) => sql`encode(sha256(convert_to(coalesce(${agg}, ''), 'UTF8')), 'hex')`;
    // PostgreSQL 16+ feeds an ordered aggregate from the key index; 15 would sort, and cannot run string_agg in
    // parallel, so its input keeps the order of a sorted subquery (an index-only scan).
    const q = ordered
      ? sql`select count(*)::float8 as n, ${hex(sql`string_agg(${key}::text || E'\\n', '' order by ${key})`)} as d
          from ${this.id(p)}`
      : sql`select count(*)::float8 as n, ${hex(sql`string_agg(k, '')`)} as d
          from (select ${key}::text || E'\\n' as k from ${this.id(p)} as t order by t.${key}) as s`;
    const r = await sql<{ n: number; d: string }>`${q}`.execute(this.target.db).catch(() => undefined);
    return r ? { rows: Number(r.rows[0]?.n ?? 0), digest: String(r.rows[0]?.d) } : undefined;
  }

  /** The same bytes as `digestInDb`, streamed and hashed here: for partitions too large to aggregate in one value. */
  private async digestStreamed(p: Partition): Promise<{ rows: number; digest: string }> {
    const key = sql.id(this.rows.key);
    const hash = createHash("sha256");
    let rows = 0;
    const q = sql`select ${key}::text as k from ${this.id(p)} as t order by t.${key}`;
    for await (const batch of this.stream(q, FETCH_ROWS)) {
      for (const r of batch) hash.update(`${r.k}\n`);
      rows += batch.length;
    }
    return { rows, digest: hash.digest("hex") };
  }

  /** Whether the server orders an aggregate's input from an index (PostgreSQL 16+); asked once. */
  private async orderedAggregates(): Promise<boolean> {
    if (this.presorted === undefined) {
      const r = await sql<{ v: string }>`select current_setting('server_version_num') as v`.execute(this.target.db);
      this.presorted = Number(r.rows[0]?.v) >= 160_000;
    }
    return this.presorted;
  }

  async drop(ps: Partition[]): Promise<void> {
    if (ps.length === 0) return;
    await this.exclusive(
      "dropping detached partitions",
      ps.map((p) => this.id(p)),
      async (trx) => {
        // Attached again since lethe detached it: its rows are live data now, not ours to drop.
        const status = await this.status(ps, trx);
        const back = ps.find((p) => status.get(p.name) !== "detached");
        if (back) throw new Error(`partition ${back.name} is attached again`);
        await sql`drop table ${sql.join(ps.map((p) => this.id(p)))}`.execute(trx);
      },
    );
  }

  private stream(q: RawBuilder<unknown>, batchSize: number): AsyncIterable<Record<string, unknown>[]> {
    if (!this.target.stream) throw new Error("this target cannot stream rows");
    return this.target.stream(q, batchSize);
  }
}

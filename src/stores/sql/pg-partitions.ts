import { type RawBuilder, sql } from "kysely";
import type { Item, Partition, PartitionDriver } from "../../core/types.js";
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
 */
export class PgPartitions implements PartitionDriver {
  constructor(
    private readonly target: TargetDialect,
    private readonly key: RangeKey,
    /** The creation column's type (`timestamp with time zone`, `bigint`…). */
    private readonly colType: string,
    /** Seconds after which a row expires (duration retention only). */
    private readonly retentionSeconds: number,
    /** The dataset's item columns and how a row becomes an item (shared with row deletes). */
    private readonly rows: { select: RawBuilder<unknown>; key: string; toItem: (r: Row) => Item; subject?: string },
  ) {}

  private id(p: Partition): RawBuilder<unknown> {
    const i = p.name.indexOf(".");
    return sql.id(p.name.slice(0, i), p.name.slice(i + 1));
  }

  private parent(): RawBuilder<unknown> {
    return sql.id(this.key.schema, this.key.table);
  }

  /** Epoch seconds of an upper bound, or undefined when rows below it are not all comparable. */
  private async upperEpoch(lower: string | undefined, upper: string): Promise<number | undefined> {
    if (/^(smallint|integer|bigint|numeric|real|double precision|decimal)/.test(this.colType)) {
      const hi = Number(upper);
      const lo = lower === undefined ? Number.NEGATIVE_INFINITY : Number(lower);
      if (!Number.isFinite(hi)) return undefined;
      if (hi <= MS_THRESHOLD + 1) return hi; // every value is epoch seconds
      return lo > MS_THRESHOLD ? hi / 1000 : undefined; // all milliseconds, or a mix: never dropped
    }
    const cast =
      this.colType === "timestamp with time zone"
        ? sql`cast(${upper} as timestamptz)`
        : this.colType === "date"
          ? sql`cast(${upper} as date)::timestamp`
          : sql`cast(${upper} as timestamp)`;
    const r = await sql<{ e: number | null }>`select extract(epoch from ${cast})::float8 as e`.execute(this.target.db);
    const e = r.rows[0]?.e;
    return e === null || e === undefined ? undefined : Number(e);
  }

  async expired(now: Date): Promise<Partition[]> {
    const cutoff = now.getTime() / 1000 - this.retentionSeconds;
    const r = await sql<{ ns: string; name: string; bound: string }>`select cn.nspname as ns, c.relname as name,
        pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_namespace cn on cn.oid = c.relnamespace
      where i.inhparent = (select pc.oid from pg_class pc join pg_namespace pn on pn.oid = pc.relnamespace
        where pn.nspname = ${this.key.schema} and pc.relname = ${this.key.table})`.execute(this.target.db);
    const out: (Partition & { upper: number })[] = [];
    for (const row of r.rows) {
      const m = BOUNDS.exec(row.bound ?? "");
      if (!m) continue; // DEFAULT: rows of any age, row-deleted
      const upper = literal(m[2] as string);
      if (upper === undefined) continue;
      const e = await this.upperEpoch(literal(m[1] as string), upper);
      if (e === undefined || e > cutoff) continue;
      out.push({ name: `${row.ns}.${row.name}`, from: m[1] as string, to: m[2] as string, upper: e });
    }
    return out.sort((a, b) => a.upper - b.upper).map(({ upper: _u, ...p }) => p);
  }

  async *subjects(p: Partition, batchSize: number): AsyncIterable<string[]> {
    const s = this.rows.subject;
    if (!s) return;
    const q = sql`select distinct ${sql.id(s)}::text as s from ${this.id(p)} where ${sql.id(s)} is not null`;
    for await (const batch of this.stream(q, batchSize)) yield batch.map((r) => String(r.s));
  }

  async status(p: Partition, db: AnyDb = this.target.db): Promise<"attached" | "detached" | "gone"> {
    const i = p.name.indexOf(".");
    // Attached to any table counts: a table that is some table's partition holds live rows.
    const r = await sql<{ attached: boolean }>`select exists (select 1 from pg_inherits i
        where i.inhrelid = c.oid) as attached
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${p.name.slice(0, i)} and c.relname = ${p.name.slice(i + 1)} and c.relkind in ('r', 'p')`.execute(
      db,
    );
    const row = r.rows[0];
    return row ? (row.attached ? "attached" : "detached") : "gone";
  }

  async detach(p: Partition): Promise<void> {
    await sql`alter table ${this.parent()} detach partition ${this.id(p)}`.execute(this.target.db);
  }

  async *items(p: Partition, batchSize: number, afterKey?: Item["key"]): AsyncIterable<Item[]> {
    const k = sql.id(this.rows.key);
    const after = afterKey === undefined ? sql`` : sql` where ${k} > ${String(afterKey)}`;
    const q = sql`select ${this.rows.select} from ${this.id(p)}${after} order by ${k}`;
    for await (const batch of this.stream(q, batchSize)) yield batch.map((r) => this.rows.toItem(r as unknown as Row));
  }

  async drop(p: Partition): Promise<void> {
    await this.target.db.transaction().execute(async (trx) => {
      await sql`lock table ${this.id(p)} in access exclusive mode`.execute(trx);
      // Attached again since lethe detached it: its rows are live data now, not ours to drop.
      if ((await this.status(p, trx)) !== "detached") throw new Error(`partition ${p.name} is attached again`);
      await sql`drop table ${this.id(p)}`.execute(trx);
    });
  }

  private stream(q: RawBuilder<unknown>, batchSize: number): AsyncIterable<Record<string, unknown>[]> {
    if (!this.target.stream) throw new Error("this target cannot stream rows");
    return this.target.stream(q, batchSize);
  }
}

import { sql } from "kysely";
import type { DatasetConfig } from "../../config/types.js";
import type { Issues, PartitionDriver } from "../../core/types.js";
import { PgPartitions, rangePartitioning } from "./pg-partitions.js";
import { itemColumns, rowToItem, type SqlColumns } from "./sql-dataset.js";
import type { TargetDialect } from "./target-dialect.js";

/**
 * Whether a dataset's expired partitions may be dropped whole: a PostgreSQL
 * table partitioned by RANGE on the creation column alone, a fixed retention
 * (a per-row one makes no partition wholly expired), a native or epoch
 * column, and no row-linked files (a dropped row could not take its file).
 * `ledger: partitions` on any other dataset is a warning: rows are then
 * deleted and recorded one by one.
 *
 * @example
 * const partitions = await partitionsOf(target, ds, cols, issues);
 */
export async function partitionsOf(
  target: TargetDialect,
  ds: DatasetConfig,
  cols: SqlColumns,
  issues: Issues,
): Promise<PartitionDriver | undefined> {
  // Qualified already (TargetDialect.qualify): PostgreSQL names always carry their schema here.
  const dot = cols.table.indexOf(".");
  const [schema, name] = [cols.table.slice(0, Math.max(dot, 0)), cols.table.slice(dot + 1)];
  const key =
    target.name === "postgres" && cols.createdAt
      ? await rangePartitioning(target, schema, name, cols.createdAt)
      : undefined;
  const why = !key
    ? "the table is not partitioned by RANGE on its createdAt column"
    : ds.retention.kind !== "duration"
      ? "partitions are dropped only under a fixed retention"
      : cols.encoding !== "native" && cols.encoding !== "epoch"
        ? "partitions are dropped only on timestamp, date or epoch-number columns"
        : ds.files
          ? "rows with linked files are deleted one by one so their files go too"
          : undefined;
  if (why || !key || ds.retention.kind !== "duration") {
    if (ds.ledger === "partitions")
      issues.warn(`datasets.${ds.name}.ledger`, `${why}; rows are deleted and recorded one by one`);
    return undefined;
  }
  return new PgPartitions(target, key, cols.createdType, ds.retention.seconds, {
    select: itemColumns(cols, sql`null`),
    key: cols.key,
    subject: cols.subject,
    toItem: rowToItem,
  });
}

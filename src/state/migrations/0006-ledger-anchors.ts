import type { Kysely } from "kysely";

/**
 * Ledger pruning: each prune leaves a signed anchor (size, chain hash, Merkle
 * frontier and root of the removed prefix), so the remaining entries still
 * verify against it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("ledger_anchors")
    .addColumn("size", "bigint", (c) => c.primaryKey())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("frontier", "text", (c) => c.notNull())
    .addColumn("root", "text", (c) => c.notNull())
    .addColumn("before", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .execute();
}

import type { Kysely } from "kysely";

/**
 * Transient data: workspace leases, the per-subject key ring and the durable
 * inference-complete event queue. Timestamps are ISO-8601 UTC text like the
 * rest of the state, so they compare correctly as strings on both dialects.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per open workspace; deleted once its directory is gone (the ledger keeps the history).
  await db.schema
    .createTable("leases")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("dir", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("opened_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("plaintext", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("leases_expiry").on("leases").column("expires_at").execute();

  // The current key version per subject survives destruction so versions never repeat.
  await db.schema
    .createTable("subject_key_heads")
    .addColumn("subject_hash", "text", (c) => c.primaryKey())
    .addColumn("current_version", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("subject_keys")
    .addColumn("subject_hash", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("wrapped", "text", (c) => c.notNull())
    .addColumn("uses", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("subject_keys_pk", ["subject_hash", "version"])
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("request_hash", "text", (c) => c.notNull().unique())
    .addColumn("payload_hash", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("artifacts", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("locked_until", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("result", "text")
    .execute();
  await db.schema.createIndex("events_due").on("events").columns(["status", "next_attempt_at"]).execute();
}

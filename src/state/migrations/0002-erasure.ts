import type { Kysely } from "kysely";

/**
 * Erasure requests. The subject is kept as its HMAC (`subject_hash`, for
 * lookups and the ledger) and, only while the request still has work to do,
 * sealed with AES-256-GCM under a key wrapped by the master key
 * (`subject_box`); the box is set to NULL once the request completes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("erasure_requests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("subject_hash", "text", (c) => c.notNull())
    .addColumn("subject_box", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("due_at", "text", (c) => c.notNull())
    .addColumn("extensions", "text", (c) => c.notNull())
    .addColumn("policy_hash", "text")
    .addColumn("policy_datasets", "text")
    .addColumn("run_ids", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .addColumn("started_at", "text")
    .addColumn("completed_at", "text")
    .addColumn("result", "text")
    .addColumn("error", "text")
    .addColumn("receipt", "text")
    .addColumn("ledger_first", "bigint")
    .addColumn("ledger_last", "bigint")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("erasure_requests_status").on("erasure_requests").columns(["status", "due_at"]).execute();
  await db.schema.createIndex("erasure_requests_subject").on("erasure_requests").column("subject_hash").execute();
}

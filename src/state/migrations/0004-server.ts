import type { Kysely } from "kysely";

/**
 * `lethe serve`: API tokens (stored as SHA-256 only), the scheduler's
 * per-(job, fire time) claims, its leader lease with an epoch (fencing
 * token), and small shared status values (last ledger verification).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("label", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("revoked_at", "text")
    .addColumn("last_used_at", "text")
    .execute();
  await db.schema
    .createTable("schedule_jobs")
    .addColumn("job", "text", (c) => c.primaryKey())
    .addColumn("registered_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("schedule_claims")
    .addColumn("job", "text", (c) => c.notNull())
    .addColumn("fire_time", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("instance", "text", (c) => c.notNull())
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("claimed_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("run_id", "text")
    .addColumn("resumed_from", "text")
    .addColumn("detail", "text")
    .addPrimaryKeyConstraint("schedule_claims_pk", ["job", "fire_time"])
    .execute();
  await db.schema.createIndex("schedule_claims_status").on("schedule_claims").column("status").execute();
  await db.schema
    .createTable("leader_lease")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text")
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("acquired_at", "text")
    .execute();
  await db.schema
    .createTable("server_status")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}

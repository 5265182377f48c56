import type { Kysely } from "kysely";

/**
 * Notifications outbox (docs/notifications.md): one row per (webhook, event),
 * written in the same transaction as the state change it reports, delivered
 * by `lethe serve` with retries. `dedupe` keeps once-only events (a request's
 * overdue warning) to one row per webhook.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("notify_outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("secret_ref", "text")
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("dedupe", "text", (c) => c.unique())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .addColumn("last_error", "text")
    .execute();
  await db.schema.createIndex("notify_outbox_due").on("notify_outbox").columns(["status", "next_at"]).execute();
}

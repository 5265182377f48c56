import type { Kysely } from "kysely";

/**
 * An intent (a batch between "about to delete" and its outcome) is what the next start reconciles into ledger
 * entries and linked-file removals. `mac` authenticates each one under the chain key (derived from the master
 * key, see src/executor/intent-mac.ts), so write access to the state alone cannot plant one that lethe acts on.
 * Intents open when this migration runs are sealed by that same open (`sealIntentsAfterMigration`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("intents").addColumn("mac", "text").execute();
}

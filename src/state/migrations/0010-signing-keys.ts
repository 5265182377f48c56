import type { Kysely } from "kysely";

/**
 * Key rotation: `signing_keys` keeps the public key of every ledger signing
 * key lethe has used (never a private one), with the ledger size after which
 * a retired key may no longer sign; checkpoints and prune anchors name the key
 * that signed them (`key_id`, NULL on rows signed before this migration: the
 * first key, the only one there was). `mac` authenticates each key row under
 * the chain key (derived from the master key), so write access to the state
 * alone cannot add a key that lethe would trust. `lethe_meta` records the
 * master key's fingerprint (never the key), so a state refuses, by name, a key
 * that is not its own (e.g. the one a rotation replaced).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("signing_keys")
    .addColumn("key_id", "text", (c) => c.primaryKey())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("retired_at", "text")
    .addColumn("retired_after", "bigint")
    .addColumn("mac", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("lethe_meta")
    .ifNotExists()
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();
  await db.schema.alterTable("checkpoints").addColumn("key_id", "text").execute();
  await db.schema.alterTable("ledger_anchors").addColumn("key_id", "text").execute();
}

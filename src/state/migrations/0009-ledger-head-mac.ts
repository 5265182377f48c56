import type { Kysely } from "kysely";

/**
 * Keyed ledger head: `mac` is an HMAC (under a key derived from the master
 * key, which the state database does not hold) over the head's size, chain
 * hash and Merkle frontier, so write access to the state alone cannot append,
 * alter or truncate entries that verify. `keyed_from` is the size at which the
 * head was first keyed (the transition point from an unkeyed ledger).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("ledger_head").addColumn("mac", "text").execute();
  await db.schema.alterTable("ledger_head").addColumn("keyed_from", "bigint").execute();
}

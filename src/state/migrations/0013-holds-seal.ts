import { type Kysely, sql } from "kysely";

/**
 * The holds are sealed by an HMAC under the chain key (`lethe_meta` row `holds-seal`, see
 * src/ledger/holds-seal.ts) that also names the newest hold entry on the ledger. This partial index keeps that
 * lookup a seek on a ledger of billions of entries. The open that applies this migration writes the first seal
 * (`sealHoldsAfterMigration`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index ledger_hold_seq on ledger (seq) where action in ('hold_added', 'hold_released')`.execute(db);
}

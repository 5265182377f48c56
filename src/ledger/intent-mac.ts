import { createHmac } from "node:crypto";
import { hexEqual } from "../crypto/hex-equal.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";

/** The fields of an `intents` row the MAC covers: what the next start acts on, and for which run. */
export interface IntentFields {
  id: string;
  run_id: string;
  dataset: string;
  payload: string;
}

/** The migration that added the column; the open that applies it seals the intents already open. */
export const INTENT_MAC_MIGRATION = "0012-intent-mac";

/**
 * HMAC-SHA256 (hex) of an intent under the chain key. An intent is reconciled into ledger entries (and
 * linked-file removals) by whichever process starts next, so only one lethe wrote may be acted on.
 * `opened_at` is left out: it only says when another host may take the intent over.
 *
 * @example
 * await db.insertInto("intents").values({ ...row, opened_at, mac: intentMac(chainKey, row) }).execute();
 */
export function intentMac(chainKey: Buffer, r: IntentFields): string {
  return createHmac("sha256", chainKey)
    .update(`lethe-intent/v1\n${r.id}\n${r.run_id}\n${r.dataset}\n${r.payload}\n`)
    .digest("hex");
}

/** Whether a stored intent carries the chain key's MAC. */
export function intentMacMatches(chainKey: Buffer, r: IntentFields & { mac: string | null }): boolean {
  return hexEqual(intentMac(chainKey, r), r.mac);
}

/**
 * The transition: intents open when migration 0012 runs (a crash just before the upgrade) are sealed, as they
 * stand, by the open that applied it, so they are still reconciled; from then on an intent without a valid MAC
 * is refused. Same trust step, and same residual risk, as keying the ledger head (docs/security.md).
 *
 * @example
 * await sealIntentsAfterMigration(state, chainKey);
 */
export async function sealIntentsAfterMigration(
  state: Pick<StateHandle, "db" | "migrated">,
  chainKey: Buffer,
): Promise<void> {
  if (!state.migrated?.includes(INTENT_MAC_MIGRATION)) return;
  const rows = await state.db.selectFrom("intents").selectAll().where("mac", "is", null).execute();
  for (const r of rows)
    await state.db
      .updateTable("intents")
      .set({ mac: intentMac(chainKey, r) })
      .where("id", "=", r.id)
      .where("mac", "is", null)
      .execute();
}

/**
 * Master-key rotation: moves every open intent's MAC to the new chain key inside the rotation's transaction;
 * one that does not verify under the old key is left as it is (it stays refused).
 *
 * @example
 * await resealIntents(trx, oldChainKey, newChainKey);
 */
export async function resealIntents(trx: StateTx, oldChainKey: Buffer, newChainKey: Buffer): Promise<number> {
  const rows = await trx.selectFrom("intents").selectAll().execute();
  let n = 0;
  for (const r of rows) {
    if (!intentMacMatches(oldChainKey, r)) continue;
    await trx
      .updateTable("intents")
      .set({ mac: intentMac(newChainKey, r) })
      .where("id", "=", r.id)
      .execute();
    n++;
  }
  return n;
}

import type { StateHandle } from "../state/open-state.js";
import { HEAD_MAC_MIGRATION, headMac } from "./head-mac.js";

/**
 * The transition from an unkeyed ledger: a head without a MAC is keyed once, as it stands, by the open that
 * applied the migration adding the MAC (the entries before it verify by their chain and checkpoints as before;
 * from then on no head verifies without the chain key). Every command that opens the state and may apply that
 * migration calls this, so a head is never left unkeyed (later appends would be refused as tampering); a MAC
 * stripped later is never re-keyed. `chainKey` is only called when there is a head to key.
 *
 * @example
 * await keyHeadAfterMigration(state, () => deriveChainKey(loadMasterKey(config, warn)));
 */
export async function keyHeadAfterMigration(state: StateHandle, chainKey: () => Buffer): Promise<void> {
  if (!state.migrated?.includes(HEAD_MAC_MIGRATION)) return;
  await state.db.transaction().execute(async (trx) => {
    const h = await trx.selectFrom("ledger_head").selectAll().where("id", "=", 1).executeTakeFirst();
    if (!h || h.mac !== null) return;
    const keyedFrom = Number(h.seq);
    const mac = headMac(chainKey(), { seq: keyedFrom, hash: h.hash, frontier: h.frontier, keyedFrom });
    await trx
      .updateTable("ledger_head")
      .set({ mac, keyed_from: keyedFrom })
      .where("id", "=", 1)
      .where("mac", "is", null)
      .execute();
  });
}

import { LetheError } from "../core/errors.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { HEAD_MAC_MIGRATION, headMac, headMacMatches } from "./head-mac.js";
import { HOLDS_SEAL_MIGRATION, neverHeld, sealHoldsAfterMigration } from "./holds-seal.js";
import { BATCH_DATA_PREFIX } from "./item-query.js";
import { markMacMatches, readMark } from "./verified-mark.js";

/**
 * The transition from an unkeyed ledger: a head without a MAC is keyed once, as it stands, by the open that
 * applied the migration adding the MAC (the entries before it verify by their chain and checkpoints as before;
 * from then on no head verifies without the chain key). Every command that opens the state and may apply that
 * migration calls this, so a head is never left unkeyed (later appends would be refused as tampering); a MAC
 * stripped later is never re-keyed. `chainKey` is only called when there is a head to key.
 *
 * A state that was keyed before cannot be keyed again by making it look older (dropping the MAC columns and
 * the migration's record): anything only a keyed state holds (a v2 batch entry, or a verified mark of a pass
 * that succeeded, authentic under the chain key) makes this refuse with AUDIT_FAILED and leave the head
 * unkeyed, so it keeps failing verification. (Signing-key rows are not evidence: instances opening the state
 * at the same time register theirs while this one keys; their table cannot predate 0009's run unless 0010 is
 * recorded, which openState refuses.)
 *
 * @example
 * await keyHeadAfterMigration(state, () => deriveChainKey(loadMasterKey(config, warn)));
 */
export async function keyHeadAfterMigration(state: StateHandle, chainKey: () => Buffer): Promise<void> {
  await keyUnkeyedHead(state, chainKey);
  // Same trust step, same moment: the open that added the holds seal writes the first one (holds-seal.ts); so does
  // any open of a state that never had a hold (a first open killed between its migrations and this point).
  if (state.migrated?.includes(HOLDS_SEAL_MIGRATION) || (await neverHeld(state)))
    await sealHoldsAfterMigration(state, chainKey());
}

async function keyUnkeyedHead(state: StateHandle, chainKey: () => Buffer): Promise<void> {
  const upgraded = state.migrated?.includes(HEAD_MAC_MIGRATION) ?? false;
  // One read on every open: a keyed head (the normal case) needs nothing more.
  if (!upgraded && !(await pristineUnkeyedHead(state))) return;
  await state.db.transaction().execute(async (trx) => {
    const h = await trx.selectFrom("ledger_head").selectAll().where("id", "=", 1).executeTakeFirst();
    if (!h || h.mac !== null) return;
    if (!upgraded && !(await isPristine(trx, Number(h.seq)))) return;
    const key = chainKey();
    const evidence = await keyedEvidence(trx, key);
    if (evidence)
      throw new LetheError(
        "AUDIT_FAILED",
        `lethe's state was tampered with: the ledger head's MAC was removed, but the state was keyed before (${evidence}); refusing to key the head again (restore the state from a backup, then run lethe audit verify --full)`,
      );
    const keyedFrom = Number(h.seq);
    const mac = headMac(key, { seq: keyedFrom, hash: h.hash, frontier: h.frontier, keyedFrom });
    await trx
      .updateTable("ledger_head")
      .set({ mac, keyed_from: keyedFrom })
      .where("id", "=", 1)
      .where("mac", "is", null)
      .execute();
  });
}

/**
 * A new state's empty head that was never keyed: the open that created the state (and so applied the migration)
 * was killed between the migrations' commit and the keying. Keying it is what that open would have done; an
 * empty ledger holds nothing to forge, and keyedEvidence still refuses one that was keyed before.
 */
async function pristineUnkeyedHead(state: StateHandle): Promise<boolean> {
  const h = await state.db.selectFrom("ledger_head").select(["seq", "mac"]).where("id", "=", 1).executeTakeFirst();
  return h !== undefined && h.mac === null && (await isPristine(state.db, Number(h.seq)));
}

async function isPristine(db: StateTx | StateHandle["db"], seq: number): Promise<boolean> {
  if (seq !== 0) return false;
  const any = await db.selectFrom("ledger").select("seq").limit(1).executeTakeFirst();
  return any === undefined;
}

/** What only a state keyed before holds; undefined for a genuine first upgrade. */
async function keyedEvidence(trx: StateTx, chainKey: Buffer): Promise<string | undefined> {
  // Batch entries are written only after migration 0011, which follows the keying.
  const batch = await trx
    .selectFrom("ledger")
    .select("seq")
    .where("data", "like", `${BATCH_DATA_PREFIX}%`)
    .limit(1)
    .executeTakeFirst();
  if (batch) return `entry ${batch.seq} is a v2 batch entry`;
  // Only a pass that succeeded proves a keyed head (a failed one is recorded too, e.g. by an instance racing this one).
  const mark = await readMark(trx);
  if (mark && !mark.mark.broken && markMacMatches(chainKey, mark.mark, mark.mac))
    return "a verification mark authentic under its key exists";
  return undefined;
}

/**
 * Master-key rotation: moves the head's MAC from the old chain key to the new
 * one inside the rotation's transaction (after its ledger entry, which holds
 * the head row). The head must verify under the old key first: a rotation
 * never blesses a head lethe did not write.
 *
 * @example
 * await rekeyHead(trx, deriveChainKey(oldMaster), deriveChainKey(newMaster));
 */
export async function rekeyHead(trx: StateTx, oldChainKey: Buffer, newChainKey: Buffer): Promise<void> {
  const h = await trx.selectFrom("ledger_head").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
  const state = { seq: Number(h.seq), hash: h.hash, frontier: h.frontier, keyedFrom: Number(h.keyed_from) };
  if (!headMacMatches(oldChainKey, state, h.mac))
    throw new LetheError(
      "AUDIT_FAILED",
      "the ledger head is not authentic under the current master key: refusing to re-key it (run lethe audit verify)",
    );
  await trx
    .updateTable("ledger_head")
    .set({ mac: headMac(newChainKey, state) })
    .where("id", "=", 1)
    .execute();
}

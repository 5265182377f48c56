import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { rootOf } from "./merkle.js";
import { type Checkpoint, checkpointFromRow, checkpointMessage } from "./signing.js";
import { checkpointTally, storeMark, type VerifiedMark } from "./verified-mark.js";
import { type VerifyKeys, verifyLedger } from "./verify.js";

export interface CheckpointSigner extends VerifyKeys {
  sign(message: Buffer): string;
  readonly signingKeyId: string;
  /** Throws when this process's signing key was retired by a rotation. */
  refuseIfRetired(): Promise<void>;
}

/**
 * Signs a checkpoint only over entries that verified: the entries since the
 * last verified mark are verified first (incrementally, in this thread, a
 * page at a time), and the checkpoint signs exactly the verified tree head,
 * never a head read afterwards. A ledger that does not verify is refused
 * (`AUDIT_FAILED`), so a forged or altered entry is never signed. The mark
 * then records the new checkpoint, so deleting it later is detected.
 *
 * @example
 * const cp = await signVerifiedCheckpoint(state, ledger);
 */
export async function signVerifiedCheckpoint(
  state: StateHandle,
  keys: CheckpointSigner,
  /** A mark just verified by the caller (the scheduled verify): signed without a second pass. */
  verified?: VerifiedMark,
): Promise<Checkpoint> {
  let m = verified;
  if (!m) {
    const r = await verifyLedger(state, keys);
    if (!r.ok || !r.mark)
      throw new LetheError(
        "AUDIT_FAILED",
        `the ledger does not verify (entry ${r.firstBad ?? "-"}: ${r.reason}); refusing to sign a checkpoint over it${/head is not authentic/.test(r.reason ?? "") ? " (a process started before a master-key rotation must be restarted)" : ""}`,
      );
    m = r.mark;
  }
  const existing = await state.db.selectFrom("checkpoints").selectAll().where("size", "=", m.seq).executeTakeFirst();
  let cp: Checkpoint;
  if (existing) cp = checkpointFromRow(existing);
  else {
    await keys.refuseIfRetired();
    const body = { size: m.seq, root: rootOf(m.frontier), at: new Date().toISOString() };
    cp = { ...body, signature: keys.sign(checkpointMessage(body)), keyId: keys.signingKeyId };
    await state.db
      .insertInto("checkpoints")
      .values({ ...body, signature: cp.signature, key_id: cp.keyId })
      .onConflict((oc) => oc.column("size").doNothing())
      .execute();
  }
  const tally = await checkpointTally(state.db, m.seq);
  const mark = { ...m, checkpoints: tally.n, checkpointsDigest: tally.digest };
  await storeMark(state.db, mark, keys.markMac(mark));
  return cp;
}

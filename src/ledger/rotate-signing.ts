import { LetheError } from "../core/errors.js";
import { seal } from "../crypto/aead.js";
import type { StateHandle } from "../state/open-state.js";
import { secretAad } from "../state/secret-store.js";
import { refuseWhileServing } from "../state/serving.js";
import type { Ledger } from "./ledger.js";
import { type Checkpoint, newSigningKeyDer, privateKeyFromDer, publicKeyId, publicKeyPem } from "./signing.js";

/** Where the ledger signing key is kept, wrapped by the master key (see lethe.ts). */
export const SIGNING_SECRET = "ledger-signing";

export interface SigningRotation {
  /** Key ids (SHA-256 of the public key): the retired key and the new one. */
  from: string;
  to: string;
  /** The `key_rotated` entry; the retired key signs nothing past the entry before it. */
  seq: number;
  retiredAfter: number;
  /** The last checkpoint the retired key signed (everything before the rotation). */
  checkpoint: Checkpoint;
  /** The new key's public half: hand it to whoever checks exported checkpoints and receipts. */
  publicKey: string;
}

/**
 * Rotates the ledger signing key. The old key first signs a checkpoint over
 * everything so far; then one transaction records `key_rotated` (both key
 * ids), retires the old key at the size before that entry (its signatures
 * keep verifying for what they covered, never beyond), records the new
 * public key, and replaces the wrapped private key, whose old value is gone.
 * Nothing changes if it fails or is killed before the commit.
 *
 * @example
 * const r = await rotateSigningKey(state, ledger, masterKey); // r.from → r.to; r.checkpoint signed by r.from
 */
export async function rotateSigningKey(
  state: StateHandle,
  ledger: Ledger,
  masterKey: Buffer,
): Promise<SigningRotation> {
  await refuseWhileServing(state);
  const checkpoint = await ledger.checkpoint();
  const der = newSigningKeyDer();
  const pem = publicKeyPem(privateKeyFromDer(der));
  const from = ledger.signingKeyId;
  const to = publicKeyId(pem);
  const now = new Date().toISOString();
  const seq = await state.db.transaction().execute(async (trx) => {
    // First statement: takes the ledger head, so nothing is appended or signed between retiring and recording.
    const { last } = await ledger.appendInTx(trx, [
      { action: "key_rotated", reason: "ledger signing key rotated", data: { key: "signing", from, to } },
    ]);
    const retired = { key_id: from, retired_at: now, retired_after: last - 1 };
    const r = await trx
      .updateTable("signing_keys")
      .set({ retired_at: now, retired_after: last - 1, mac: ledger.signingKeyMac(retired) })
      .where("key_id", "=", from)
      .where("retired_at", "is", null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1)
      throw new LetheError(
        "CONFLICT",
        "the current signing key was already retired (another rotation ran): restart and retry",
      );
    const fresh = { key_id: to, retired_at: null, retired_after: null };
    await trx
      .insertInto("signing_keys")
      .values({ ...fresh, public_key: pem, created_at: now, mac: ledger.signingKeyMac(fresh) })
      .execute();
    await trx
      .updateTable("secrets")
      .set({ value: seal(masterKey, der, secretAad(SIGNING_SECRET)).toString("base64"), created_at: now })
      .where("name", "=", SIGNING_SECRET)
      .execute();
    return last;
  });
  der.fill(0);
  return { from, to, seq, retiredAfter: seq - 1, checkpoint, publicKey: pem };
}

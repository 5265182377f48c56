import { createHmac } from "node:crypto";
import { LetheError } from "../core/errors.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { secretAad } from "../state/secret-store.js";
import { open } from "./aead.js";

/** Where the state records which master key it is wrapped by (the fingerprint, never the key). */
export const MASTER_FINGERPRINT = "master_key_fingerprint";

/**
 * A short public name for a master key: HMAC-SHA256(key, domain), first 16
 * hex digits. It tells two keys apart in errors and on the ledger and reveals
 * nothing that the wrapped secrets in the state do not already let one test.
 *
 * @example
 * masterKeyFingerprint(key); // "3f9a0c…" (16 hex digits)
 */
export function masterKeyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update("lethe-master-key-fingerprint/v1").digest("hex").slice(0, 16);
}

/** The fingerprint the state records, if any (inside `trx` when given). */
export async function stateMasterFingerprint(state: StateHandle, trx?: StateTx): Promise<string | undefined> {
  const row = await (trx ?? state.db)
    .selectFrom("lethe_meta")
    .select("value")
    .where("key", "=", MASTER_FINGERPRINT)
    .executeTakeFirst();
  return row?.value;
}

function wrongKey(fp: string, expected: string | undefined): LetheError {
  return new LetheError(
    "CONFIG_INVALID",
    `secrets.masterKey: the configured master key (fingerprint ${fp}) does not open this state` +
      (expected ? `, which is wrapped by master key ${expected}` : "") +
      ". If the key was rotated, configure the new key; if `lethe keys rotate-master` was interrupted, run it again" +
      " with the same --new-key-file to finish.",
    { fingerprint: fp, ...(expected ? { expected } : {}) },
  );
}

/**
 * Refuses, with both fingerprints, a master key that is not the state's own
 * (before anything is unwrapped with it). A state from before fingerprints
 * were kept is checked by opening one wrapped secret, then records the key's.
 *
 * @example
 * await checkMasterKey(state, loadMasterKey(config, warn)); // throws CONFIG_INVALID for a replaced key
 */
export async function checkMasterKey(state: StateHandle, key: Buffer): Promise<void> {
  const fp = masterKeyFingerprint(key);
  const recorded = await stateMasterFingerprint(state);
  if (recorded !== undefined) {
    if (recorded !== fp) throw wrongKey(fp, recorded);
    return;
  }
  const secret = await state.db.selectFrom("secrets").select(["name", "value"]).limit(1).executeTakeFirst();
  if (secret) {
    try {
      open(key, Buffer.from(secret.value, "base64"), secretAad(secret.name));
    } catch {
      throw wrongKey(fp, undefined);
    }
  }
  await state.db
    .insertInto("lethe_meta")
    .values({ key: MASTER_FINGERPRINT, value: fp })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
  // Two first opens with different keys: the one recorded first wins, the other is refused.
  const now = await stateMasterFingerprint(state);
  if (now !== fp) throw wrongKey(fp, now);
}

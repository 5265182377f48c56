import { sql } from "kysely";
import { LetheError } from "../core/errors.js";
import { open, seal } from "../crypto/aead.js";
import { wrapAad } from "../crypto/keyring.js";
import { MASTER_FINGERPRINT, masterKeyFingerprint, stateMasterFingerprint } from "../crypto/master-check.js";
import type { Executor } from "../executor/executor.js";
import { deriveChainKey } from "../ledger/head-mac.js";
import { resealHolds } from "../ledger/holds-seal.js";
import { resealIntents } from "../ledger/intent-mac.js";
import { rekeyHead } from "../ledger/key-head.js";
import { signingKeyMac } from "../ledger/signing-keys.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { secretAad } from "../state/secret-store.js";
import { refuseWhileServing } from "../state/serving.js";
import { eventPayloadAad } from "../transient/event-queue.js";

export interface MasterRotation {
  /** Fingerprints (never the keys): the key the state was wrapped by, and the one it is wrapped by now. */
  from: string;
  to: string;
  /** The state was already wrapped by the new key (a rerun, or a rerun after a kill past the commit). */
  alreadyRotated: boolean;
  /** Rows re-wrapped (or re-authenticated) under the new key, per table. */
  rewrapped: { secrets: number; subjectKeys: number; events: number; signingKeys: number };
  /** The `key_rotated` ledger entry. */
  seq?: number;
}

/** Rows per read while re-wrapping: bounded memory on a large key ring. */
const PAGE = 1000;

type Rewrap = (box: string, aad: Buffer) => string;

/**
 * Rotates the master key in one state transaction: records `key_rotated`
 * (both fingerprints) under the old chain key, moves the ledger head's MAC to
 * the new chain key (it must verify under the old one first), re-wraps every
 * secret, per-subject data key and queued event payload, re-authenticates the
 * signing-key records, and records the new fingerprint. Killed at any point
 * before the commit nothing changed (the old key still opens the state); after
 * it, only the new key does, and a rerun reports `alreadyRotated`. Subject and
 * item tags do not change: their HMAC key is a random secret the master key
 * only wraps, so `audit log --subject` finds entries from before.
 *
 * @example
 * const r = await rotateMasterKey({ state, executor }, oldKey, newKey); // r.from, r.to: fingerprints
 */
export async function rotateMasterKey(
  deps: { state: StateHandle; executor: Executor },
  oldKey: Buffer,
  newKey: Buffer,
  onProgress?: (table: string, rows: number) => void,
): Promise<MasterRotation> {
  const { state, executor } = deps;
  const from = masterKeyFingerprint(oldKey);
  const to = masterKeyFingerprint(newKey);
  const rewrapped = { secrets: 0, subjectKeys: 0, events: 0, signingKeys: 0 };
  if (from === to) throw new LetheError("USAGE", "--new-key-file: the new master key is the current one");
  const recorded = await stateMasterFingerprint(state);
  if (recorded === to) return { from, to, alreadyRotated: true, rewrapped };
  await refuseWhileServing(state);
  const rewrap: Rewrap = (box, aad) => {
    const plain = open(oldKey, Buffer.from(box, "base64"), aad);
    try {
      return seal(newKey, plain, aad).toString("base64");
    } finally {
      plain.fill(0);
    }
  };
  const oldChain = deriveChainKey(oldKey);
  const newChain = deriveChainKey(newKey);
  const seq = await state.db.transaction().execute(async (trx) => {
    // First statement: the entry takes the ledger head, so no append interleaves with the re-keying.
    const { last } = await executor.recordInTx(trx, [
      { action: "key_rotated", reason: "master key rotated", data: { key: "master", from, to } },
    ]);
    if ((await stateMasterFingerprint(state, trx)) !== from)
      throw new LetheError("CONFLICT", "another master-key rotation committed meanwhile; nothing was changed");
    await rekeyHead(trx, oldChain, newChain);
    // Shared (PostgreSQL) state: no instance inserts a key or event wrapped by the old key while this runs.
    if (state.dialect.shared)
      await sql`lock table secrets, subject_keys, events, signing_keys, intents in exclusive mode`.execute(trx);
    rewrapped.secrets = await rewrapSecrets(trx, rewrap);
    onProgress?.("secrets", rewrapped.secrets);
    rewrapped.subjectKeys = await rewrapSubjectKeys(trx, rewrap, (n) => onProgress?.("subject_keys", n));
    rewrapped.events = await rewrapEvents(trx, rewrap);
    onProgress?.("events", rewrapped.events);
    rewrapped.signingKeys = await remacSigningKeys(trx, newChain);
    // Intents left by a crash are reconciled by the next start, which holds only the new key.
    await resealIntents(trx, oldChain, newChain);
    // The holds seal too: the next deletion checks it under the new key (a hold change takes the head, held here).
    await resealHolds(trx, oldChain, newChain);
    await trx
      .updateTable("lethe_meta")
      .set({ value: to })
      .where("key", "=", MASTER_FINGERPRINT)
      .where("value", "=", from)
      .execute();
    return last;
  });
  return { from, to, alreadyRotated: false, rewrapped, seq };
}

async function rewrapSecrets(trx: StateTx, rewrap: Rewrap): Promise<number> {
  const rows = await trx.selectFrom("secrets").select(["name", "value"]).execute();
  for (const r of rows)
    await trx
      .updateTable("secrets")
      .set({ value: rewrap(r.value, secretAad(r.name)) })
      .where("name", "=", r.name)
      .execute();
  return rows.length;
}

async function rewrapSubjectKeys(trx: StateTx, rewrap: Rewrap, progress: (n: number) => void): Promise<number> {
  let n = 0;
  let after: { sh: string; v: number } | undefined;
  for (;;) {
    const page = await trx
      .selectFrom("subject_keys")
      .select(["subject_hash", "version", "wrapped"])
      .$if(after !== undefined, (q) =>
        q.where((eb) =>
          eb.or([
            eb("subject_hash", ">", after!.sh),
            eb.and([eb("subject_hash", "=", after!.sh), eb("version", ">", after!.v)]),
          ]),
        ),
      )
      .orderBy("subject_hash")
      .orderBy("version")
      .limit(PAGE)
      .execute();
    for (const r of page) {
      const v = Number(r.version);
      await trx
        .updateTable("subject_keys")
        .set({ wrapped: rewrap(r.wrapped, wrapAad(r.subject_hash, v)) })
        .where("subject_hash", "=", r.subject_hash)
        .where("version", "=", v)
        .execute();
    }
    n += page.length;
    const last = page[page.length - 1];
    if (!last) break;
    progress(n);
    if (page.length < PAGE) break;
    after = { sh: last.subject_hash, v: Number(last.version) };
  }
  return n;
}

async function rewrapEvents(trx: StateTx, rewrap: Rewrap): Promise<number> {
  // A processed event's payload is emptied: only queued ones still hold a sealed artifact list.
  const rows = await trx.selectFrom("events").select(["id", "payload"]).where("payload", "<>", "").execute();
  for (const r of rows)
    await trx
      .updateTable("events")
      .set({ payload: rewrap(r.payload, eventPayloadAad(r.id)) })
      .where("id", "=", r.id)
      .execute();
  return rows.length;
}

async function remacSigningKeys(trx: StateTx, newChain: Buffer): Promise<number> {
  const rows = await trx.selectFrom("signing_keys").select(["key_id", "retired_at", "retired_after"]).execute();
  for (const r of rows) {
    const row = { ...r, retired_after: r.retired_after === null ? null : Number(r.retired_after) };
    await trx
      .updateTable("signing_keys")
      .set({ mac: signingKeyMac(newChain, row) })
      .where("key_id", "=", r.key_id)
      .execute();
  }
  return rows.length;
}

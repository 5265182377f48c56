import { randomFillSync } from "node:crypto";
import { LetheError } from "../core/errors.js";
import type { Executor } from "../executor/executor.js";
import type { StateHandle } from "../state/open-state.js";
import { open, seal } from "./aead.js";

/**
 * Crypto-shredding key ring: one AES-256-GCM data key per subject (and key
 * version), stored only wrapped by the master key. Destroying a subject's keys
 * makes every copy of its ciphertext unreadable, backups included.
 *
 * Ciphertext layout: "k"(1) ‖ format(1) ‖ key version(u32 BE) ‖ aead box
 * (version ‖ 96-bit random nonce ‖ 16-byte tag ‖ body). The AAD binds the
 * subject's HMAC, the key version and the caller's AAD, so a ciphertext moved
 * to another subject, version or context fails to open.
 *
 * @example
 * const ct = await keys.encrypt("user-42", Buffer.from("scan"), Buffer.from("uploads/1"));
 * await keys.decrypt("user-42", ct, Buffer.from("uploads/1")); // <Buffer 73 63 61 6e>
 * await keys.destroy("user-42"); // decrypt now throws CRYPTO_ERROR
 */
const MAGIC = 0x6b;
const FORMAT = 1;
const HEADER = 6;

/**
 * NIST SP 800-38D: at most 2^32 encryptions per key with random 96-bit nonces.
 *
 * @example
 * const ring = new KeyRing(state, executor, masterKey, { maxUses: Math.min(1_000_000, DEFAULT_MAX_USES) });
 */
export const DEFAULT_MAX_USES = 2 ** 32;

export interface KeyRingOptions {
  /** Encryptions per key before a new key version is created. */
  maxUses?: number;
}

export interface DestroyResult {
  /** Key versions whose material was deleted. */
  destroyed: number;
}

function toBuffer(data: Buffer | Uint8Array | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function dataAad(subjectHash: string, version: number, aad: Buffer): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version);
  return Buffer.concat([Buffer.from(`lethe-keyring/v1\0${subjectHash}\0`), v, aad]);
}

/** The AAD a data key is wrapped with under the master key (a wrapped key moved to another subject fails). */
export function wrapAad(subjectHash: string, version: number): Buffer {
  return Buffer.from(`lethe-keyring-wrap/v1\0${subjectHash}\0${version}`);
}

/**
 * Per-subject data keys for crypto-shredding (wrapped under the master key in lethe's state): data encrypted
 * for a subject becomes unreadable everywhere, backups included, once the subject's keys are destroyed.
 *
 * @example
 * const blob = await lethe.keys.encrypt("user-7", "prompt text");
 * await lethe.keys.decrypt("user-7", blob); // <Buffer …> "prompt text"
 * await lethe.keys.destroy("user-7", { reason: "erasure" }); // decrypt now fails
 */
export class KeyRing {
  private readonly maxUses: number;

  constructor(
    private readonly state: StateHandle,
    private readonly ledger: Executor,
    private readonly masterKey: Buffer,
    opts: KeyRingOptions = {},
  ) {
    this.maxUses = opts.maxUses ?? DEFAULT_MAX_USES;
    if (!Number.isSafeInteger(this.maxUses) || this.maxUses < 1)
      throw new LetheError("USAGE", "keyring maxUses must be a positive integer");
  }

  /** Encrypts under the subject's current key, rotating to a new version when it is used up. */
  async encrypt(
    subject: string,
    data: Buffer | Uint8Array | string,
    aad: Buffer | Uint8Array | string = Buffer.alloc(0),
  ): Promise<Buffer> {
    const sh = this.subjectHash(subject);
    // Each round at least one writer rotates and the fresh key serves maxUses of them, so with N writers on
    // one subject a writer may lose about N / maxUses rounds: keep trying (with a little jitter) for a while.
    for (let attempt = 0; attempt < 200; attempt++) {
      const claimed = await this.claimUse(sh);
      if (!claimed) {
        await this.rotate(sh);
        if (attempt >= 8) await new Promise((r) => setTimeout(r, Math.random() * 5));
        continue;
      }
      const key = this.unwrap(sh, claimed.version, claimed.wrapped);
      try {
        const box = seal(key, toBuffer(data), dataAad(sh, claimed.version, toBuffer(aad)));
        const header = Buffer.from([MAGIC, FORMAT, 0, 0, 0, 0]);
        header.writeUInt32BE(claimed.version, 2);
        return Buffer.concat([header, box]);
      } finally {
        key.fill(0);
      }
    }
    throw new LetheError("STATE_ERROR", "could not obtain a data key (concurrent rotation kept winning)");
  }

  async decrypt(
    subject: string,
    ciphertext: Buffer | Uint8Array,
    aad: Buffer | Uint8Array | string = Buffer.alloc(0),
  ): Promise<Buffer> {
    const ct = toBuffer(ciphertext);
    if (ct.length <= HEADER || ct[0] !== MAGIC || ct[1] !== FORMAT)
      throw new LetheError("CRYPTO_ERROR", "not a lethe key-ring ciphertext (bad header or truncated)");
    const version = ct.readUInt32BE(2);
    const sh = this.subjectHash(subject);
    const row = await this.state.db
      .selectFrom("subject_keys")
      .select("wrapped")
      .where("subject_hash", "=", sh)
      .where("version", "=", version)
      .executeTakeFirst();
    if (!row)
      throw new LetheError(
        "CRYPTO_ERROR",
        "no key for this subject and key version (destroyed, or the ciphertext belongs to another subject)",
      );
    const key = this.unwrap(sh, version, row.wrapped);
    try {
      return open(key, ct.subarray(HEADER), dataAad(sh, version, toBuffer(aad)));
    } finally {
      key.fill(0);
    }
  }

  /**
   * Deletes every key version of the subject, records `key_destroyed` in the
   * same transaction, then scrubs the state files (SQLite: secure_delete is
   * on and the WAL is checkpointed and truncated) so the wrapped key bytes are
   * gone from disk. Decrypting afterwards fails with CRYPTO_ERROR.
   */
  async destroy(subject: string, opts: { reason?: string; runId?: string } = {}): Promise<DestroyResult> {
    const sh = this.subjectHash(subject);
    const versions = await this.state.db
      .selectFrom("subject_keys")
      .select("version")
      .where("subject_hash", "=", sh)
      .execute();
    if (versions.length === 0) return { destroyed: 0 };
    const destroyed = await this.state.db
      .transaction()
      .execute(async (trx) => {
        await this.ledger.recordInTx(trx, [
          {
            action: "key_destroyed",
            subjectHash: sh,
            reason: opts.reason ?? "key destroyed",
            runId: opts.runId,
            data: { versions: versions.map((v) => Number(v.version)).sort((a, b) => a - b) },
          },
        ]);
        const r = await trx.deleteFrom("subject_keys").where("subject_hash", "=", sh).executeTakeFirst();
        const n = Number(r.numDeletedRows);
        // Another process destroyed them first: roll back so the ledger never records a deletion twice.
        if (n === 0) throw new RaceLost();
        return n;
      })
      .catch((err: unknown) => {
        if (err instanceof RaceLost) return 0;
        throw err;
      });
    await this.state.dialect.scrub(this.state.db);
    return { destroyed };
  }

  /** Key versions currently held for a subject, with their use counters (no key material). */
  async info(subject: string): Promise<{ version: number; uses: number; createdAt: string }[]> {
    const rows = await this.state.db
      .selectFrom("subject_keys")
      .select(["version", "uses", "created_at"])
      .where("subject_hash", "=", this.subjectHash(subject))
      .orderBy("version")
      .execute();
    return rows.map((r) => ({ version: Number(r.version), uses: Number(r.uses), createdAt: r.created_at }));
  }

  private subjectHash(subject: string): string {
    if (typeof subject !== "string" || subject.length === 0)
      throw new LetheError("VALIDATION", "a subject id is a non-empty string");
    return this.ledger.subjectHash(subject);
  }

  /** Atomically counts one use of the current key; undefined when there is none or it is used up. */
  private async claimUse(sh: string): Promise<{ version: number; wrapped: string } | undefined> {
    const row = await this.state.db
      .updateTable("subject_keys")
      .set((eb) => ({ uses: eb("uses", "+", 1) }))
      .where("subject_hash", "=", sh)
      .where("version", "=", (eb) =>
        eb.selectFrom("subject_key_heads").select("current_version").where("subject_hash", "=", sh),
      )
      .where("uses", "<", this.maxUses)
      .returning(["version", "wrapped"])
      .executeTakeFirst();
    return row ? { version: Number(row.version), wrapped: row.wrapped } : undefined;
  }

  /** Moves the subject to a fresh key version (compare-and-set on the head, so racing writers converge). */
  private async rotate(sh: string): Promise<void> {
    const now = new Date().toISOString();
    await this.state.db.transaction().execute(async (trx) => {
      const head = await trx
        .selectFrom("subject_key_heads")
        .select("current_version")
        .where("subject_hash", "=", sh)
        .executeTakeFirst();
      let version: number;
      if (!head) {
        const r = await trx
          .insertInto("subject_key_heads")
          .values({ subject_hash: sh, current_version: 1, updated_at: now })
          .onConflict((oc) => oc.column("subject_hash").doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0) return; // someone else created it
        version = 1;
      } else {
        const current = Number(head.current_version);
        const r = await trx
          .updateTable("subject_key_heads")
          .set({ current_version: current + 1, updated_at: now })
          .where("subject_hash", "=", sh)
          .where("current_version", "=", current)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return; // someone else rotated
        version = current + 1;
      }
      const key = Buffer.alloc(32);
      randomFillSync(key);
      try {
        const wrapped = seal(this.masterKey, key, wrapAad(sh, version)).toString("base64");
        await trx
          .insertInto("subject_keys")
          .values({ subject_hash: sh, version, wrapped, uses: 0, created_at: now })
          .execute();
      } finally {
        key.fill(0);
      }
    });
  }

  private unwrap(sh: string, version: number, wrapped: string): Buffer {
    return open(this.masterKey, Buffer.from(wrapped, "base64"), wrapAad(sh, version));
  }
}

class RaceLost extends Error {}

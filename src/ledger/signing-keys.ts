import { createHmac } from "node:crypto";
import type { Kysely } from "kysely";
import { hexEqual } from "../crypto/hex-equal.js";
import type { StateDatabase } from "../state/schema.js";
import { publicKeyId, verifyBytes } from "./signing.js";

/** One ledger signing key as lethe trusts it: its public half, and when it stopped signing. */
export interface SigningKeyRecord {
  keyId: string;
  publicKey: string;
  createdAt: string;
  retiredAt?: string;
  /** A retired key's signature covers at most this many entries (the ledger size before its rotation). */
  retiredAfter?: number;
}

/**
 * The keys whose signatures lethe accepts on checkpoints and prune anchors:
 * the current one and every retired one, each retired key only for what it
 * signed before its rotation. Plain data, so it can be handed to a worker or
 * built offline from PEM files ({@link SigningKeySet.fromPems}).
 *
 * @example
 * const keys = SigningKeySet.fromPems([oldPem, newPem]);
 * keys.problem(cp.keyId, cp.size, checkpointMessage(cp), cp.signature); // undefined when it verifies
 */
export class SigningKeySet {
  constructor(readonly keys: readonly SigningKeyRecord[]) {}

  /** Offline: keys from PEM text (retirement is known only from the state, so none is applied; bad PEMs are skipped). */
  static fromPems(pems: string[]): SigningKeySet {
    const keys: SigningKeyRecord[] = [];
    for (const publicKey of pems) {
      try {
        keys.push({ keyId: publicKeyId(publicKey), publicKey, createdAt: "" });
      } catch {
        // Not a public key: it can verify nothing.
      }
    }
    return new SigningKeySet(keys);
  }

  /**
   * Why a signature by `keyId` over `message` (for a ledger of `size` entries)
   * is not accepted, or undefined when it is. Without a key id (signed before
   * rotation existed) any known key may have signed it.
   */
  problem(keyId: string | null | undefined, size: number, message: Buffer, signature: string): string | undefined {
    const candidates = keyId ? this.keys.filter((k) => k.keyId === keyId) : this.keys;
    if (keyId && candidates.length === 0)
      return `is signed by key ${keyId.slice(0, 16)}…, which is not among the ledger's signing keys`;
    const key = candidates.find((k) => verifyBytes(k.publicKey, message, signature));
    if (!key) return "has an invalid signature";
    if (key.retiredAfter !== undefined && size > key.retiredAfter)
      return `is signed by key ${key.keyId.slice(0, 16)}…, retired at ledger size ${key.retiredAfter}: it covers entries written after its rotation`;
    return undefined;
  }
}

function rowMessage(r: { key_id: string; retired_at: string | null; retired_after: number | null }): string {
  return `lethe-signing-key/v1\n${r.key_id}\n${r.retired_after ?? ""}\n${r.retired_at ?? ""}\n`;
}

/**
 * HMAC-SHA256 (hex) of a `signing_keys` row under the chain key: the id
 * (which commits to the public key) and its retirement, so neither a planted
 * key nor an un-retired one is trusted.
 *
 * @example
 * await trx.insertInto("signing_keys").values({ ...row, mac: signingKeyMac(chainKey, row) }).execute();
 */
export function signingKeyMac(
  chainKey: Buffer,
  r: { key_id: string; retired_at: string | null; retired_after: number | null },
): string {
  return createHmac("sha256", chainKey).update(rowMessage(r)).digest("hex");
}

/**
 * Whether a `signing_keys` row (as stored) carries the chain key's MAC over its id and retirement.
 *
 * @example
 * if (!signingKeyMacMatches(chainKey, row)) throw new LetheError("AUDIT_FAILED", "…not authentic…");
 */
export function signingKeyMacMatches(
  chainKey: Buffer,
  r: { key_id: string; retired_at: string | null; retired_after: number | string | null; mac: string },
): boolean {
  const retiredAfter = r.retired_after === null ? null : Number(r.retired_after);
  return hexEqual(signingKeyMac(chainKey, { ...r, retired_after: retiredAfter }), r.mac);
}

/**
 * The authentic rows of `signing_keys`, oldest first: a row whose MAC does
 * not match the chain key, or whose public key does not hash to its id, is
 * left out (its signatures then fail to verify: planted keys are never trusted).
 */
export async function loadSigningKeys(db: Kysely<StateDatabase>, chainKey: Buffer): Promise<SigningKeyRecord[]> {
  const rows = await db.selectFrom("signing_keys").selectAll().orderBy("created_at").orderBy("key_id").execute();
  const out: SigningKeyRecord[] = [];
  for (const r of rows) {
    if (!signingKeyMacMatches(chainKey, r)) continue;
    const retiredAfter = r.retired_after === null ? null : Number(r.retired_after);
    let id: string;
    try {
      id = publicKeyId(r.public_key);
    } catch {
      continue;
    }
    if (id !== r.key_id) continue;
    out.push({
      keyId: r.key_id,
      publicKey: r.public_key,
      createdAt: r.created_at,
      ...(r.retired_at !== null ? { retiredAt: r.retired_at } : {}),
      ...(retiredAfter !== null ? { retiredAfter } : {}),
    });
  }
  return out;
}

/**
 * The PEM public keys in a file (`lethe audit public-key --all` writes one
 * per key, each after a `#` comment naming it; a single PEM works as before).
 *
 * @example
 * const pems = splitPems(readFileSync("ledger-keys.pem", "utf8"));
 */
export function splitPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g)].map((m) => `${m[0]}\n`);
}

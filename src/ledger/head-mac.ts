import { createHmac, hkdfSync } from "node:crypto";
import { hexEqual } from "../crypto/hex-equal.js";

/** The migration that added the head MAC: the one moment an unkeyed head is keyed as it stands. */
export const HEAD_MAC_MIGRATION = "0009-ledger-head-mac";

/** What the head MAC covers; the chain hash commits to every entry before it. */
export interface HeadState {
  seq: number;
  hash: string;
  frontier: string;
  keyedFrom: number;
}

/**
 * Derives the ledger chain key from the master key (never stored in the
 * state database), so only a holder of the master key can produce a head
 * that verifies.
 *
 * @example
 * const chainKey = deriveChainKey(masterKey);
 */
export function deriveChainKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "lethe-ledger-chain/v1", 32));
}

/**
 * HMAC-SHA256 (hex) over the head: size, chain hash, Merkle frontier and the
 * keyed-from transition point, in a fixed text form.
 *
 * @example
 * const mac = headMac(chainKey, { seq: 3, hash, frontier: "[]", keyedFrom: 0 });
 */
export function headMac(chainKey: Buffer, h: HeadState): string {
  return createHmac("sha256", chainKey)
    .update(`lethe-ledger-head/v1\n${h.seq}\n${h.hash}\n${h.frontier}\n${h.keyedFrom}\n`)
    .digest("hex");
}

export function headMacMatches(chainKey: Buffer, h: HeadState, mac: string | null): boolean {
  return hexEqual(headMac(chainKey, h), mac);
}

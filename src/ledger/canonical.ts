import { hash } from "node:crypto";
import type { LedgerTable } from "../state/schema.js";

/** The genesis `prevHash`: 64 zeros. */
export const GENESIS = "0".repeat(64);

/**
 * The exact bytes an entry's hash covers: a JSON array in a fixed field
 * order, so the hash never depends on object key order or on how a driver
 * returns columns. `hash = SHA-256(prevHash ‖ canonical)`.
 */
export function canonicalEntry(row: Omit<LedgerTable, "hash" | "prev_hash">): string {
  return JSON.stringify([
    Number(row.seq),
    row.at,
    row.action,
    row.dataset,
    row.item_key,
    row.key_hash,
    row.subject_hash,
    row.reason,
    row.run_id,
    row.data,
  ]);
}

export function entryHash(prevHash: string, row: Omit<LedgerTable, "hash" | "prev_hash">): string {
  // One-shot hashing: several times cheaper per entry than a Hash object.
  return hash("sha256", prevHash + canonicalEntry(row), "hex");
}

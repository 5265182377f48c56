import { createHmac, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { StateDatabase } from "../state/schema.js";

/**
 * How far the ledger was last verified: the entry, its chain hash, the
 * Merkle frontier after it, and how many signed checkpoints covered entries
 * up to it. Incremental verification starts here. The MAC (under the chain
 * key, derived from the master key) is what stops a state-database writer
 * from moving the mark past entries they altered; a mark that does not
 * authenticate is ignored and the ledger is verified from the start.
 */
export interface VerifiedMark {
  seq: number;
  hash: string;
  frontier: string[];
  /** Stored checkpoints with size ≤ seq when the mark was written: fewer later means one was deleted. */
  checkpoints: number;
}

const KEY = "ledger_verified_mark";

function markText(m: VerifiedMark): string {
  return `lethe-ledger-verified/v1\n${m.seq}\n${m.hash}\n${m.frontier.join(",")}\n${m.checkpoints}\n`;
}

/**
 * HMAC-SHA256 (hex) of a mark under the chain key.
 *
 * @example
 * const mac = markMac(chainKey, { seq: 10, hash, frontier, checkpoints: 1 });
 */
export function markMac(chainKey: Buffer, m: VerifiedMark): string {
  return createHmac("sha256", chainKey).update(markText(m)).digest("hex");
}

export function markMacMatches(chainKey: Buffer, m: VerifiedMark, mac: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(mac)) return false;
  return timingSafeEqual(Buffer.from(markMac(chainKey, m), "hex"), Buffer.from(mac, "hex"));
}

/** The stored mark and its MAC as found (not yet authenticated), if any. */
export async function readMark(db: Kysely<StateDatabase>): Promise<{ mark: VerifiedMark; mac: string } | undefined> {
  const r = await db.selectFrom("server_status").select("value").where("key", "=", KEY).executeTakeFirst();
  if (!r) return undefined;
  try {
    const v = JSON.parse(r.value) as VerifiedMark & { mac: string };
    const ok =
      Number.isSafeInteger(v.seq) &&
      typeof v.hash === "string" &&
      Array.isArray(v.frontier) &&
      v.frontier.every((f) => typeof f === "string") &&
      Number.isSafeInteger(v.checkpoints) &&
      typeof v.mac === "string";
    return ok
      ? { mark: { seq: v.seq, hash: v.hash, frontier: v.frontier, checkpoints: v.checkpoints }, mac: v.mac }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores the mark (last writer wins: an instance that verified less far
 * moves it back, which only costs the next run some time).
 *
 * @example
 * await storeMark(state.db, mark, ledger.markMac(mark));
 */
export async function storeMark(db: Kysely<StateDatabase>, m: VerifiedMark, mac: string): Promise<void> {
  const value = JSON.stringify({ ...m, mac });
  const at = new Date().toISOString();
  await db
    .insertInto("server_status")
    .values({ key: KEY, value, updated_at: at })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: at }))
    .execute();
}

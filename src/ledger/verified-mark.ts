import { createHash, createHmac } from "node:crypto";
import type { Kysely } from "kysely";
import { hexEqual } from "../crypto/hex-equal.js";
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
  /** SHA-256 over those checkpoints' (size, root, signature): a replaced or altered one changes it ({@link checkpointTally}). */
  checkpointsDigest: string;
  /**
   * A break a verification found and recorded: it stays reported, and no checkpoint is signed, until a full
   * verification passes (e.g. after the state was restored from a backup). seq/hash/frontier stay the last good mark.
   */
  broken?: { seq: number | null; reason: string; at: string } | undefined;
}

const KEY = "ledger_verified_mark";

function markText(m: VerifiedMark): string {
  const broken = m.broken ? `${m.broken.seq ?? "-"}\n${m.broken.at}\n${JSON.stringify(m.broken.reason)}` : "-";
  return `lethe-ledger-verified/v2\n${m.seq}\n${m.hash}\n${m.frontier.join(",")}\n${m.checkpoints}\n${m.checkpointsDigest}\n${broken}\n`;
}

/**
 * How many stored checkpoints cover entries up to `upTo`, and a SHA-256 over their size, root and signature
 * in size order: the mark records both, so an incremental pass notices a checkpoint deleted, replaced by an
 * unsigned placeholder, or altered among those it does not read again (without verifying each signature).
 *
 * @example
 * const { n, digest } = await checkpointTally(db, 1200);
 */
export async function checkpointTally(db: Kysely<StateDatabase>, upTo: number): Promise<{ n: number; digest: string }> {
  const rows = await db
    .selectFrom("checkpoints")
    .select(["size", "root", "signature"])
    .where("size", "<=", upTo)
    .orderBy("size")
    .orderBy("signature")
    .execute();
  const h = createHash("sha256");
  for (const r of rows) h.update(`${Number(r.size)} ${r.root} ${r.signature}\n`);
  return { n: rows.length, digest: h.digest("hex") };
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
  return hexEqual(markMac(chainKey, m), mac);
}

/** The stored mark and its MAC as found (not yet authenticated), if any. */
export async function readMark(db: Kysely<StateDatabase>): Promise<{ mark: VerifiedMark; mac: string } | undefined> {
  const r = await db.selectFrom("server_status").select("value").where("key", "=", KEY).executeTakeFirst();
  if (!r) return undefined;
  try {
    const v = JSON.parse(r.value) as VerifiedMark & { mac: string };
    const b = v.broken;
    const ok =
      Number.isSafeInteger(v.seq) &&
      typeof v.hash === "string" &&
      Array.isArray(v.frontier) &&
      v.frontier.every((f) => typeof f === "string") &&
      Number.isSafeInteger(v.checkpoints) &&
      typeof v.checkpointsDigest === "string" &&
      (b === undefined ||
        (typeof b === "object" &&
          b !== null &&
          (b.seq === null || Number.isSafeInteger(b.seq)) &&
          typeof b.reason === "string" &&
          typeof b.at === "string")) &&
      typeof v.mac === "string";
    if (!ok) return undefined;
    const mark: VerifiedMark = {
      seq: v.seq,
      hash: v.hash,
      frontier: v.frontier,
      checkpoints: v.checkpoints,
      checkpointsDigest: v.checkpointsDigest,
    };
    if (b) mark.broken = { seq: b.seq, reason: b.reason, at: b.at };
    return { mark, mac: v.mac };
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

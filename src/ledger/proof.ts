import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { latestAnchor } from "./anchor.js";
import { entryHash } from "./canonical.js";
import { leafHash, PrunedTree, rootFromPath } from "./merkle.js";
import { toEntry } from "./query.js";
import { type Checkpoint, checkpointMessage } from "./signing.js";
import { SigningKeySet } from "./signing-keys.js";
import type { LedgerEntry } from "./types.js";

/** An inclusion proof: this entry hash is leaf `seq - 1` of the signed tree. */
export interface InclusionProof {
  seq: number;
  entryHash: string;
  leafIndex: number;
  path: string[];
  checkpoint: Checkpoint;
  /**
   * The entry itself (as `audit log` shows it), so an offline checker can say
   * what was proved; its hash must equal `entryHash` ({@link entryMatches}).
   */
  entry?: LedgerEntry;
}

/** True when `entry`'s fields hash to `entryHash` (an edited action, time or subject does not). */
export function entryMatches(proof: InclusionProof): boolean {
  const e = proof.entry;
  if (!e) return false;
  const row = {
    seq: e.seq,
    at: e.at,
    action: e.action,
    dataset: e.dataset ?? null,
    item_key: e.key !== undefined ? String(e.key) : null,
    key_hash: e.keyHash ?? null,
    subject_hash: e.subjectHash ?? null,
    reason: e.reason ?? null,
    run_id: e.runId ?? null,
    data: e.data !== undefined ? JSON.stringify(e.data) : null,
  };
  return e.seq === proof.seq && e.hash === proof.entryHash && entryHash(e.prevHash, row) === proof.entryHash;
}

/**
 * Builds an RFC 6962 audit path for entry `seq` against a checkpoint that
 * covers it.
 *
 * @example
 * const proof = await proveInclusion(state, 12, await ledger.checkpoint());
 */
export async function proveInclusion(state: StateHandle, seq: number, checkpoint: Checkpoint): Promise<InclusionProof> {
  if (seq < 1 || seq > checkpoint.size)
    throw new LetheError("NOT_FOUND", `entry ${seq} is not covered by a checkpoint of size ${checkpoint.size}`);
  const anchor = await latestAnchor(state);
  const pruned = anchor?.size ?? 0;
  if (seq <= pruned)
    throw new LetheError(
      "NOT_FOUND",
      `entry ${seq} was pruned (entries before ${anchor?.before}); it has no proof any more`,
    );
  const rows = await state.db
    .selectFrom("ledger")
    .select(["seq", "hash"])
    .where("seq", ">", pruned)
    .where("seq", "<=", checkpoint.size)
    .orderBy("seq")
    .execute();
  const entry = rows[seq - pruned - 1];
  if (!entry || Number(entry.seq) !== seq) throw new LetheError("NOT_FOUND", `entry ${seq} does not exist`);
  const tree = new PrunedTree(
    anchor?.frontier ?? [],
    pruned,
    rows.map((r) => leafHash(r.hash)),
  );
  const full = await state.db.selectFrom("ledger").selectAll().where("seq", "=", seq).executeTakeFirstOrThrow();
  return {
    seq,
    entryHash: entry.hash,
    leafIndex: seq - 1,
    path: tree.path(seq - 1, checkpoint.size),
    checkpoint,
    entry: toEntry(full),
  };
}

/**
 * Offline check: the checkpoint is signed by one of the public keys given
 * (the one its `keyId` names; after a key rotation pass the old keys too) and
 * the path leads to its root.
 */
export function verifyInclusion(publicPem: string | readonly string[], proof: InclusionProof): boolean {
  const cp = proof.checkpoint;
  const keys = SigningKeySet.fromPems(typeof publicPem === "string" ? [publicPem] : [...publicPem]);
  if (keys.problem(cp.keyId, cp.size, checkpointMessage(cp), cp.signature) !== undefined) return false;
  // The leaf index is what the path proves; a seq that does not match it is an edited proof.
  if (proof.seq !== proof.leafIndex + 1) return false;
  const root = rootFromPath(leafHash(proof.entryHash), proof.leafIndex, proof.checkpoint.size, proof.path);
  return root === proof.checkpoint.root;
}

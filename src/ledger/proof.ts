import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { latestAnchor } from "./anchor.js";
import { leafHash, PrunedTree, rootFromPath } from "./merkle.js";
import { type Checkpoint, verifyCheckpoint } from "./signing.js";

/** An inclusion proof: this entry hash is leaf `seq - 1` of the signed tree. */
export interface InclusionProof {
  seq: number;
  entryHash: string;
  leafIndex: number;
  path: string[];
  checkpoint: Checkpoint;
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
  return { seq, entryHash: entry.hash, leafIndex: seq - 1, path: tree.path(seq - 1, checkpoint.size), checkpoint };
}

/** Offline check: the checkpoint is signed by `publicPem` and the path leads to its root. */
export function verifyInclusion(publicPem: string, proof: InclusionProof): boolean {
  if (!verifyCheckpoint(publicPem, proof.checkpoint)) return false;
  // The leaf index is what the path proves; a seq that does not match it is an edited proof.
  if (proof.seq !== proof.leafIndex + 1) return false;
  const root = rootFromPath(leafHash(proof.entryHash), proof.leafIndex, proof.checkpoint.size, proof.path);
  return root === proof.checkpoint.root;
}

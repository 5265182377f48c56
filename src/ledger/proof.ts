import type { StateHandle } from "../state/open-state.js";
import { inclusionPath, leafHash, rootFromPath } from "./merkle.js";
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
    throw new RangeError(`entry ${seq} is not covered by a checkpoint of size ${checkpoint.size}`);
  const rows = await state.db
    .selectFrom("ledger")
    .select(["seq", "hash"])
    .where("seq", "<=", checkpoint.size)
    .orderBy("seq")
    .execute();
  const leaves = rows.map((r) => leafHash(r.hash));
  const entry = rows[seq - 1];
  if (!entry) throw new RangeError(`entry ${seq} does not exist`);
  return { seq, entryHash: entry.hash, leafIndex: seq - 1, path: inclusionPath(leaves, seq - 1), checkpoint };
}

/** Offline check: the checkpoint is signed by `publicPem` and the path leads to its root. */
export function verifyInclusion(publicPem: string, proof: InclusionProof): boolean {
  if (!verifyCheckpoint(publicPem, proof.checkpoint)) return false;
  const root = rootFromPath(leafHash(proof.entryHash), proof.leafIndex, proof.checkpoint.size, proof.path);
  return root === proof.checkpoint.root;
}

import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { latestAnchor } from "./anchor.js";
import { entryHash } from "./canonical.js";
import { batchSecret, itemLeaf, itemSalt } from "./items.js";
import { inclusionPath, leafHash, PrunedTree, rootFromPath } from "./merkle.js";
import { proofProblems } from "./proof-schema.js";
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
  /** For one item of a v2 batch entry: the item and its path to the root the entry commits to. */
  item?: ItemPath;
}

/** An item's place in its batch: enough to recompute its leaf (items.ts) and walk to the batch root. */
export interface ItemPath {
  index: number;
  /** Items in the batch (the entry's `data.items`). */
  size: number;
  /** This item's salt (hex): reveals nothing about its siblings'. */
  salt: string;
  key?: number;
  keyTag?: string;
  subjectTag?: string;
  path: string[];
}

/** The item's leaf hash (hex), recomputed from what the proof states. */
export function itemLeafOf(p: ItemPath): string {
  return itemLeaf(Buffer.from(p.salt, "hex"), p.index, {
    itemKey: p.key ?? null,
    keyTag: p.keyTag !== undefined ? Buffer.from(p.keyTag, "hex") : null,
    subjectTag: p.subjectTag !== undefined ? Buffer.from(p.subjectTag, "hex") : null,
  }).toString("hex");
}

/** True when the proof's item hashes, along its path, to the root its (matching) entry commits to. */
export function itemMatches(proof: InclusionProof): boolean {
  const it = proof.item;
  const data = proof.entry?.data as { items?: unknown; root?: unknown } | undefined;
  if (!it || !data || !entryMatches(proof)) return false;
  if (data.items !== it.size || typeof data.root !== "string") return false;
  if ((it.key === undefined) === (it.keyTag === undefined)) return false;
  // Item leaves are already RFC 6962 leaf hashes (SHA-256(0x00 ‖ d)): the path starts from them.
  return rootFromPath(itemLeafOf(it), it.index, it.size, it.path) === data.root;
}

/**
 * The path of item `index` of batch entry `seq` inside its batch tree, read
 * from the item rows; the salt is recomputed with the ledger's salt key.
 */
export async function proveItem(state: StateHandle, saltKey: Buffer, seq: number, index: number): Promise<ItemPath> {
  const rows = await state.db.selectFrom("ledger_items").selectAll().where("seq", "=", seq).orderBy("idx").execute();
  const row = rows[index];
  if (!row || Number(row.idx) !== index)
    throw new LetheError(
      "NOT_FOUND",
      `entry ${seq} has no item ${index}${rows.length ? ` (it has ${rows.length})` : ""}`,
    );
  const secret = batchSecret(saltKey, seq);
  const leaves = rows.map((r, i) =>
    itemLeaf(itemSalt(secret, i), i, {
      itemKey: r.item_key === null ? null : Number(r.item_key),
      keyTag: r.key_tag === null ? null : Buffer.from(r.key_tag),
      subjectTag: r.subject_tag === null ? null : Buffer.from(r.subject_tag),
    }).toString("hex"),
  );
  const p: ItemPath = {
    index,
    size: rows.length,
    salt: itemSalt(secret, index).toString("hex"),
    path: inclusionPath(leaves, index),
  };
  if (row.item_key !== null) p.key = Number(row.item_key);
  if (row.key_tag !== null) p.keyTag = Buffer.from(row.key_tag).toString("hex");
  if (row.subject_tag !== null) p.subjectTag = Buffer.from(row.subject_tag).toString("hex");
  return p;
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
 * Offline check: the proof is well-formed ({@link proofProblems}: exact
 * lengths, integers, no unknown fields), the checkpoint is signed by one of
 * the public keys given (the one its `keyId` names, when it names one; after a
 * key rotation pass the old keys too) and the path leads to its root.
 *
 * @example
 * verifyInclusion(readFileSync("k.pem", "utf8"), JSON.parse(readFileSync("p.json", "utf8")));
 */
export function verifyInclusion(publicPem: string | readonly string[], proof: InclusionProof): boolean {
  if (proofProblems(proof).length > 0) return false;
  const cp = proof.checkpoint;
  const keys = SigningKeySet.fromPems(typeof publicPem === "string" ? [publicPem] : [...publicPem]);
  if (keys.problem(cp.keyId, cp.size, checkpointMessage(cp), cp.signature) !== undefined) return false;
  // The leaf index is what the path proves; a seq that does not match it is an edited proof.
  if (proof.seq !== proof.leafIndex + 1) return false;
  const root = rootFromPath(leafHash(proof.entryHash), proof.leafIndex, proof.checkpoint.size, proof.path);
  if (root !== proof.checkpoint.root) return false;
  // An item proof proves the item, not only its batch entry: the item must reach the entry's root.
  return proof.item === undefined || itemMatches(proof);
}

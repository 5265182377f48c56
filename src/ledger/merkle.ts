import { createHash, hash } from "node:crypto";

/**
 * RFC 6962 Merkle tree over ledger entry hashes: leaf = SHA-256(0x00 ‖ h),
 * node = SHA-256(0x01 ‖ left ‖ right). The compact "frontier" (roots of the
 * perfect subtrees, left to right) lets every append update the root in
 * O(log n) instead of rereading the whole ledger.
 *
 * @example
 * const f = new FrontierBuilder(); f.add("ab".repeat(32)); f.root();
 */
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export const EMPTY_ROOT = createHash("sha256").digest("hex");

export function leafHash(entryHashHex: string): string {
  return hash("sha256", Buffer.concat([LEAF, Buffer.from(entryHashHex, "hex")]), "hex");
}

export function nodeHash(leftHex: string, rightHex: string): string {
  return hash("sha256", Buffer.concat([NODE, Buffer.from(leftHex, "hex"), Buffer.from(rightHex, "hex")]), "hex");
}

/**
 * The tree's compact frontier, built entry by entry on raw bytes (hex only at
 * the edges). The one implementation of "append a leaf": ledger appends,
 * verification and tests all use it.
 */
export class FrontierBuilder {
  private readonly f: Buffer[];
  constructor(
    frontierHex: string[] = [],
    private size = 0,
  ) {
    this.f = frontierHex.map((h) => Buffer.from(h, "hex"));
  }

  /** Appends the leaf of one ledger entry hash. */
  add(entryHashHex: string): void {
    this.f.push(hash("sha256", Buffer.concat([LEAF, Buffer.from(entryHashHex, "hex")]), "buffer"));
    let n = this.size + 1;
    while (n % 2 === 0) {
      const right = this.f.pop() as Buffer;
      const left = this.f.pop() as Buffer;
      this.f.push(hash("sha256", Buffer.concat([NODE, left, right]), "buffer"));
      n /= 2;
    }
    this.size += 1;
  }

  toHex(): string[] {
    return this.f.map((b) => b.toString("hex"));
  }

  root(): string {
    return rootOf(this.toHex());
  }
}

export function rootOf(frontier: string[]): string {
  if (frontier.length === 0) return EMPTY_ROOT;
  let r = frontier[frontier.length - 1] as string;
  for (let i = frontier.length - 2; i >= 0; i--) r = nodeHash(frontier[i] as string, r);
  return r;
}

function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already leaf-hashed values. */
export function treeHash(leaves: string[], from = 0, to = leaves.length): string {
  const n = to - from;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[from] as string;
  const k = largestPow2Below(n);
  return nodeHash(treeHash(leaves, from, from + k), treeHash(leaves, from + k, to));
}

/** RFC 6962 audit path for leaf `index` in the tree of the given leaves. */
export function inclusionPath(leaves: string[], index: number, from = 0, to = leaves.length): string[] {
  const n = to - from;
  if (n <= 1) return [];
  const k = largestPow2Below(n);
  if (index < k) return [...inclusionPath(leaves, index, from, from + k), treeHash(leaves, from + k, to)];
  return [...inclusionPath(leaves, index - k, from + k, to), treeHash(leaves, from, from + k)];
}

/** RFC 9162 §2.1.3.2: recomputes the root from a leaf and its audit path. */
export function rootFromPath(leaf: string, index: number, size: number, path: string[]): string | undefined {
  if (index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/**
 * The tree of a pruned ledger: the first `prunedSize` leaves are gone, but
 * the frontier kept in the anchor holds the hashes of the perfect subtrees
 * that cover them (one per set bit of `prunedSize`). Every subtree an audit
 * path for a later leaf needs is either one of those or is computed from the
 * remaining leaves, so inclusion proofs keep working after a prune.
 *
 * @example
 * new PrunedTree(anchor.frontier, anchor.size, laterLeaves).path(index, treeSize);
 */
export class PrunedTree {
  private readonly known = new Map<string, string>();

  constructor(
    frontierHex: string[],
    private readonly prunedSize: number,
    /** Leaf hashes of entries `prunedSize + 1 …`, in order. */
    private readonly leaves: string[],
  ) {
    let start = 0;
    let i = 0;
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(1, prunedSize))); bit >= 1; bit /= 2) {
      if (Math.floor(prunedSize / bit) % 2 === 1) {
        this.known.set(`${start}:${start + bit}`, frontierHex[i++] as string);
        start += bit;
      }
    }
  }

  hash(from: number, to: number): string {
    const n = to - from;
    if (n === 0) return EMPTY_ROOT;
    const k = this.known.get(`${from}:${to}`);
    if (k !== undefined) return k;
    if (n === 1) {
      const leaf = this.leaves[from - this.prunedSize];
      if (leaf === undefined) throw new RangeError(`leaf ${from} was pruned`);
      return leaf;
    }
    const half = largestPow2Below(n);
    return nodeHash(this.hash(from, from + half), this.hash(from + half, to));
  }

  /** RFC 6962 audit path for leaf `index` in the tree of the first `size` leaves. */
  path(index: number, size: number, from = 0): string[] {
    const n = size - from;
    if (n <= 1) return [];
    const k = largestPow2Below(n);
    if (index < from + k) return [...this.path(index, from + k, from), this.hash(from + k, size)];
    return [...this.path(index, size, from + k), this.hash(from, from + k)];
  }
}

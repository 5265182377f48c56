import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrontierBuilder, inclusionPath, leafHash, rootFromPath, treeHash } from "../../src/ledger/merkle.js";

const h = (i: number) => createHash("sha256").update(`entry ${i}`).digest("hex");

describe("RFC 6962 Merkle tree", () => {
  it("the incremental frontier root equals the recursive tree hash at every size", () => {
    const frontier = new FrontierBuilder();
    const leaves: string[] = [];
    expect(frontier.root()).toBe(treeHash([]));
    for (let i = 0; i < 70; i++) {
      leaves.push(leafHash(h(i)));
      frontier.add(h(i));
      expect(frontier.root()).toBe(treeHash(leaves));
      // Resuming from the stored hex frontier continues the same tree.
      if (i === 40) expect(new FrontierBuilder(frontier.toHex(), 41).root()).toBe(frontier.root());
    }
  });

  it("every inclusion path leads to the root, and only for the right leaf and index", () => {
    for (let n = 1; n <= 20; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(h(i)));
      const root = treeHash(leaves);
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(leaves, i);
        expect(rootFromPath(leaves[i] as string, i, n, path)).toBe(root);
        if (n > 1) {
          expect(rootFromPath(leafHash(h(999)), i, n, path)).not.toBe(root);
          expect(rootFromPath(leaves[i] as string, (i + 1) % n, n, path)).not.toBe(root);
        }
      }
    }
  });

  it("matches the RFC 6962 empty-tree hash", () => {
    expect(treeHash([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("PrunedTree", () => {
  it("gives the same audit paths as the full tree for every leaf after any prune point", async () => {
    const { PrunedTree } = await import("../../src/ledger/merkle.js");
    for (const size of [1, 2, 3, 5, 8, 13, 16, 17, 31]) {
      const entries = Array.from({ length: size }, (_, i) => createHash("sha256").update(`e${i}`).digest("hex"));
      const leaves = entries.map(leafHash);
      for (let pruned = 0; pruned < size; pruned++) {
        const f = new FrontierBuilder();
        for (const e of entries.slice(0, pruned)) f.add(e);
        const tree = new PrunedTree(f.toHex(), pruned, leaves.slice(pruned));
        expect(tree.hash(0, size)).toBe(treeHash(leaves));
        for (let i = pruned; i < size; i++)
          expect(tree.path(i, size), `${size}/${pruned}/${i}`).toEqual(inclusionPath(leaves, i));
      }
    }
  });
});

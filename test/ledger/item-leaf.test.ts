import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { batchSecret, ItemBatch, type ItemRecord, itemLeaf, itemSalt, leafInput } from "../../src/ledger/items.js";
import { treeHash } from "../../src/ledger/merkle.js";

// The leaf input as items.ts documents it, built the plain way (BigInt, concat), independently of its buffers.
function documentedInput(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  const idxB = Buffer.alloc(4);
  idxB.writeUInt32BE(idx);
  let key: Buffer;
  if (r.itemKey !== null) {
    key = Buffer.alloc(9);
    key[0] = 1;
    key.writeBigInt64BE(BigInt(r.itemKey), 1);
  } else key = Buffer.concat([Buffer.from([2]), r.keyTag as Buffer]);
  const subject = r.subjectTag ? Buffer.concat([Buffer.from([1]), r.subjectTag]) : Buffer.from([0]);
  return Buffer.concat([Buffer.from("lethe.item.v2\0", "latin1"), salt.subarray(0, 16), idxB, key, subject]);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest();
const KEYS = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32) - 1, 123456789012, -98765432101];
const EXTREMES = [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

describe("ledger v2 item leaves", () => {
  it("every key shape (negative, past 32 bits, the safe-integer limits, a key tag) hashes to the documented leaf", () => {
    const salt = randomBytes(16);
    const records: ItemRecord[] = [
      ...[...KEYS, ...EXTREMES].map((k) => ({ itemKey: k, keyTag: null, subjectTag: randomBytes(8) })),
      ...KEYS.map((k) => ({ itemKey: k, keyTag: null, subjectTag: null })),
      { itemKey: null, keyTag: randomBytes(8), subjectTag: randomBytes(8) },
      { itemKey: null, keyTag: randomBytes(8), subjectTag: null },
    ];
    records.forEach((r, idx) => {
      const d = documentedInput(salt, idx, r);
      expect(leafInput(salt, idx, r).equals(d)).toBe(true);
      expect(itemLeaf(salt, idx, r).equals(sha(Buffer.concat([Buffer.from([0]), d])))).toBe(true);
    });
  });

  it("a batch's root is the RFC 6962 tree over its salted leaves, at every size up to 70", () => {
    const saltKey = randomBytes(32);
    const secret = createHmac("sha256", saltKey)
      .update(Buffer.concat([Buffer.from("batch"), u64(9)]))
      .digest();
    expect(batchSecret(saltKey, 9).equals(secret)).toBe(true);
    const batch = new ItemBatch(saltKey, 9);
    const leaves: string[] = [];
    expect(batch.root()).toBe(treeHash([]));
    for (let idx = 0; idx < 70; idx++) {
      const r: ItemRecord = { itemKey: KEYS[idx % KEYS.length] as number, keyTag: null, subjectTag: randomBytes(8) };
      const salt = sha(Buffer.concat([secret, u32(idx)])).subarray(0, 16);
      expect(itemSalt(secret, idx).equals(salt)).toBe(true);
      leaves.push(sha(Buffer.concat([Buffer.from([0]), documentedInput(salt, idx, r)])).toString("hex"));
      batch.add(r);
      expect(batch.root()).toBe(treeHash(leaves));
    }
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

import { createHmac, hash } from "node:crypto";

/**
 * Ledger v2 item records. A batch of deleted (or shredded) items is one
 * ledger entry whose `data.root` is the RFC 6962 Merkle tree hash over one
 * leaf per item; each item keeps a compact row in `ledger_items` (batch
 * entry seq, index, key, subject tag) for lookups and proofs.
 *
 * Leaf input `d` of item `idx` in the batch entry `seq` (all integers big-endian):
 *
 *   "lethe.item.v2" ‖ 0x00 ‖ salt(16) ‖ u32(idx) ‖ key ‖ subject
 *   key     = 0x01 ‖ i64(integer key)  |  0x02 ‖ keyTag(8)
 *   subject = 0x00                     |  0x01 ‖ subjectTag(8)
 *   leaf    = SHA-256(0x00 ‖ d),  node = SHA-256(0x01 ‖ left ‖ right)
 *
 * keyTag and subjectTag are the first 8 bytes of the HMAC-SHA256 the ledger
 * already uses for keys and subjects. The salt is secret per item:
 * `salt = SHA-256(batchSecret ‖ u32(idx))[0..16]` with
 * `batchSecret = HMAC-SHA256(saltKey, "batch" ‖ u64(seq))`, so a proof that
 * reveals one item's salt says nothing that would let anyone test a guess
 * about a sibling's leaf (integer keys are easy to guess).
 *
 * @example
 * const b = new ItemBatch(saltKey, 42);
 * b.add({ itemKey: 7, keyTag: null, subjectTag: tagOf(subjectHashHex) });
 * b.root(); // hex, stored in the batch entry's data
 */
const PREFIX = Buffer.from("lethe.item.v2\0", "latin1");
const NODE = Buffer.from([1]);

/** One item as stored in `ledger_items` (besides its batch seq and index). */
export interface ItemRecord {
  /** A safe integer key, stored in clear (DESIGN.md allows it). */
  itemKey: number | null;
  /** First 8 bytes of the key HMAC, for every other key. */
  keyTag: Buffer | null;
  /** First 8 bytes of the subject HMAC, when the item has a subject. */
  subjectTag: Buffer | null;
}

/** The key used to derive item salts, from the ledger's subject HMAC key (stable across master-key rotations). */
export function deriveSaltKey(hmacKey: Buffer): Buffer {
  return createHmac("sha256", hmacKey).update("lethe-ledger-item-salt/v1").digest();
}

/** The 8-byte tag of a 64-hex-digit HMAC. */
export function tagOf(hashHex: string): Buffer {
  return Buffer.from(hashHex.slice(0, 16), "hex");
}

export function batchSecret(saltKey: Buffer, seq: number): Buffer {
  const m = Buffer.alloc(13);
  m.write("batch", 0, "latin1");
  m.writeBigUInt64BE(BigInt(seq), 5);
  return createHmac("sha256", saltKey).update(m).digest();
}

export function itemSalt(secret: Buffer, idx: number): Buffer {
  const m = Buffer.alloc(36);
  secret.copy(m, 0);
  m.writeUInt32BE(idx, 32);
  return hash("sha256", m, "buffer").subarray(0, 16);
}

/** The leaf input `d` (see the module comment). */
export function leafInput(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  return leafBytes(salt, idx, r).subarray(1);
}

/** 0x00 ‖ d in one buffer: what the leaf hash covers, without a concat per item. */
function leafBytes(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  const d = Buffer.allocUnsafe(1 + PREFIX.length + 16 + 4 + 9 + (r.subjectTag ? 9 : 1));
  d[0] = 0;
  let o = 1 + PREFIX.copy(d, 1);
  o += salt.copy(d, o, 0, 16);
  o = d.writeUInt32BE(idx, o);
  if (r.itemKey !== null) {
    d[o++] = 1;
    o = d.writeBigInt64BE(BigInt(r.itemKey), o);
  } else {
    d[o++] = 2;
    o += (r.keyTag as Buffer).copy(d, o, 0, 8);
  }
  if (r.subjectTag) {
    d[o++] = 1;
    r.subjectTag.copy(d, o, 0, 8);
  } else d[o] = 0;
  return d;
}

export function itemLeaf(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  return hash("sha256", leafBytes(salt, idx, r), "buffer");
}

/**
 * Builds one batch's tree as items are added: O(log n) memory (the
 * frontier of perfect subtrees), the same root as RFC 6962's MTH.
 */
export class ItemBatch {
  private readonly secret: Buffer;
  private readonly frontier: { h: Buffer; size: number }[] = [];
  size = 0;

  constructor(saltKey: Buffer, seq: number) {
    this.secret = batchSecret(saltKey, seq);
  }

  add(r: ItemRecord): void {
    let node = { h: itemLeaf(itemSalt(this.secret, this.size), this.size, r), size: 1 };
    let top = this.frontier[this.frontier.length - 1];
    while (top && top.size === node.size) {
      this.frontier.pop();
      node = { h: hash("sha256", Buffer.concat([NODE, top.h, node.h]), "buffer"), size: node.size * 2 };
      top = this.frontier[this.frontier.length - 1];
    }
    this.frontier.push(node);
    this.size += 1;
  }

  /** The tree hash (hex); the empty tree is SHA-256 of nothing. */
  root(): string {
    const f = this.frontier;
    if (f.length === 0) return hash("sha256", Buffer.alloc(0), "hex");
    let r = (f[f.length - 1] as { h: Buffer }).h;
    for (let i = f.length - 2; i >= 0; i--)
      r = hash("sha256", Buffer.concat([NODE, (f[i] as { h: Buffer }).h, r]), "buffer");
    return r.toString("hex");
  }
}

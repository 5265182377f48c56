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

/** Longest `0x00 ‖ d`: a key tag (9 bytes) or an integer key (9) and a subject tag (9). */
const LEAF_MAX = 1 + PREFIX.length + 16 + 4 + 9 + 9;
const TWO_32 = 4294967296;

/**
 * Writes `0x00 ‖ d` (see the module comment) into `out` (at least LEAF_MAX bytes) and returns its length. Shared by
 * the one-off leaf below and the batch builder, which reuses one buffer for every item of a batch.
 */
function writeLeaf(out: Buffer, salt: Buffer, idx: number, r: ItemRecord): number {
  out[0] = 0;
  let o = 1 + PREFIX.copy(out, 1);
  o += salt.copy(out, o, 0, 16);
  o = out.writeUInt32BE(idx, o);
  if (r.itemKey !== null) {
    out[o++] = 1;
    // i64 big-endian without a BigInt per item: a safe integer's high word fits an int32 (two's complement).
    const hi = Math.floor(r.itemKey / TWO_32);
    o = out.writeInt32BE(hi, o);
    o = out.writeUInt32BE(r.itemKey - hi * TWO_32, o);
  } else {
    out[o++] = 2;
    o += (r.keyTag as Buffer).copy(out, o, 0, 8);
  }
  if (r.subjectTag) {
    out[o++] = 1;
    o += r.subjectTag.copy(out, o, 0, 8);
  } else out[o++] = 0;
  return o;
}

/** The leaf input `d` (see the module comment). */
export function leafInput(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  const b = Buffer.allocUnsafe(LEAF_MAX);
  return b.subarray(1, writeLeaf(b, salt, idx, r));
}

export function itemLeaf(salt: Buffer, idx: number, r: ItemRecord): Buffer {
  const b = Buffer.allocUnsafe(LEAF_MAX);
  return hash("sha256", b.subarray(0, writeLeaf(b, salt, idx, r)), "buffer");
}

/**
 * Builds one batch's tree as items are added: O(log n) memory (the
 * frontier of perfect subtrees), the same root as RFC 6962's MTH. Every
 * ledger append and every verification pass runs each item through here, so
 * it allocates nothing per item but the hash outputs: the salt, leaf and
 * node inputs are written into buffers the batch reuses.
 */
export class ItemBatch {
  /** `batchSecret ‖ u32(idx)`: the salt input, rewritten in place per item. */
  private readonly saltIn = Buffer.allocUnsafe(36);
  private readonly leafIn = Buffer.allocUnsafe(LEAF_MAX);
  /** `0x01 ‖ left ‖ right`. */
  private readonly nodeIn = Buffer.allocUnsafe(65);
  /** The frontier: hashes of perfect subtrees, largest first, and their sizes. */
  private readonly hashes: Buffer[] = [];
  private readonly sizes: number[] = [];
  size = 0;

  constructor(saltKey: Buffer, seq: number) {
    batchSecret(saltKey, seq).copy(this.saltIn, 0);
    this.nodeIn[0] = 1;
  }

  add(r: ItemRecord): void {
    this.saltIn.writeUInt32BE(this.size, 32);
    const salt = hash("sha256", this.saltIn, "buffer");
    let h = hash("sha256", this.leafIn.subarray(0, writeLeaf(this.leafIn, salt, this.size, r)), "buffer");
    let size = 1;
    const { hashes, sizes, nodeIn } = this;
    while (sizes.length > 0 && sizes[sizes.length - 1] === size) {
      sizes.pop();
      (hashes.pop() as Buffer).copy(nodeIn, 1);
      h.copy(nodeIn, 33);
      h = hash("sha256", nodeIn, "buffer");
      size *= 2;
    }
    hashes.push(h);
    sizes.push(size);
    this.size += 1;
  }

  /** The tree hash (hex); the empty tree is SHA-256 of nothing. */
  root(): string {
    const f = this.hashes;
    if (f.length === 0) return hash("sha256", Buffer.alloc(0), "hex");
    let r = f[f.length - 1] as Buffer;
    for (let i = f.length - 2; i >= 0; i--) r = hash("sha256", Buffer.concat([NODE, f[i] as Buffer, r]), "buffer");
    return r.toString("hex");
  }
}

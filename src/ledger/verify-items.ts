import type { Kysely } from "kysely";
import type { StateDatabase } from "../state/schema.js";
import { itemSlices } from "./item-query.js";
import { ItemBatch } from "./items.js";

/** A batch entry's commitment, as its (already chain-verified) data states it. */
interface Commitment {
  items: number;
  root: string;
}

/** Batches checked together: one range read over their item rows. */
const MAX_BATCHES = 500;
const MAX_ITEMS = 50_000;

/**
 * Checks the item rows of v2 batch entries against the Merkle roots their
 * entries commit to (the chain already vouches for the entries). Batches are
 * queued as the scan meets them and checked a group at a time with one
 * range read on the items' primary key, so a ledger of millions of items is
 * streamed, never held. An item row whose seq is not a batch entry in the
 * range is reported too.
 *
 * @example
 * const c = new ItemsChecker(db, saltKey); c.add(12, { items: 3, root }); const bad = await c.flush();
 */
export class ItemsChecker {
  private pending = new Map<number, Commitment>();
  private pendingItems = 0;
  /** Items of every batch checked so far. */
  checked = 0;

  constructor(
    private readonly db: Kysely<StateDatabase>,
    private readonly saltKey: Buffer,
  ) {}

  /** Queues a batch; true when enough are queued that the caller should {@link flush}. */
  add(seq: number, c: Commitment): boolean {
    this.pending.set(seq, c);
    this.pendingItems += c.items;
    return this.pending.size >= MAX_BATCHES || this.pendingItems >= MAX_ITEMS;
  }

  /** Checks the queued batches; returns the first problem as `[seq, reason]`. */
  async flush(): Promise<[number, string] | undefined> {
    if (this.pending.size === 0) return undefined;
    const seqs = [...this.pending.keys()];
    const first = seqs[0] as number;
    const last = seqs[seqs.length - 1] as number;
    let batch: { seq: number; tree: ItemBatch } | undefined;
    const close = (): [number, string] | undefined => {
      if (!batch) return undefined;
      const c = this.pending.get(batch.seq) as Commitment;
      if (batch.tree.size !== c.items)
        return [batch.seq, `entry ${batch.seq} commits to ${c.items} items but ${batch.tree.size} item rows exist`];
      if (batch.tree.root() !== c.root)
        return [batch.seq, `an item of entry ${batch.seq} was altered (its items do not hash to the entry's root)`];
      this.checked += c.items;
      this.pending.delete(batch.seq);
      return undefined;
    };
    for await (const rows of itemSlices(this.db, { from: first, to: last }))
      for (const r of rows) {
        const seq = Number(r.seq);
        if (batch?.seq !== seq) {
          const bad = close();
          if (bad) return bad;
          if (!this.pending.has(seq))
            return [seq, `item rows were added to entry ${seq}, which is not a batch of items`];
          batch = { seq, tree: new ItemBatch(this.saltKey, seq) };
        }
        if (Number(r.idx) !== batch.tree.size)
          return [seq, `item ${batch.tree.size} of entry ${seq} is missing (index gap)`];
        const bad = malformed(r);
        if (bad) return [seq, `item ${batch.tree.size} of entry ${seq} is malformed (${bad}): it was altered`];
        batch.tree.add({
          itemKey: r.item_key === null ? null : Number(r.item_key),
          keyTag: asBuffer(r.key_tag),
          subjectTag: asBuffer(r.subject_tag),
        });
      }
    const bad = close();
    if (bad) return bad;
    // A batch none of whose rows was read lost all of them.
    const [seq, c] = [...this.pending.entries()][0] ?? [];
    if (seq !== undefined && c) return [seq, `entry ${seq} commits to ${c.items} items but none of their rows exist`];
    this.pendingItems = 0;
    return undefined;
  }
}

/** Both drivers hand blobs over as Buffers already; anything else is copied into one. */
function asBuffer(b: Uint8Array | null): Buffer | null {
  return b === null ? null : Buffer.isBuffer(b) ? b : Buffer.from(b);
}

/** What the leaf cannot represent: a key that is not a safe integer, a tag that is not 8 bytes, or both a key and a key tag. */
function malformed(r: {
  item_key: unknown;
  key_tag: Uint8Array | null;
  subject_tag: Uint8Array | null;
}): string | undefined {
  const k = r.item_key;
  // Most keys arrive as safe integers already; only text (int8 from PostgreSQL, a planted string) needs the pattern.
  if (k !== null && !Number.isSafeInteger(k) && !(Number.isSafeInteger(Number(k)) && /^-?\d+$/.test(String(k))))
    return "item_key is not an integer";
  if (k === null && r.key_tag === null) return "neither item_key nor key_tag";
  if (k !== null && r.key_tag !== null) return "both item_key and key_tag";
  if (r.key_tag !== null && r.key_tag.length !== 8) return "key_tag is not 8 bytes";
  if (r.subject_tag !== null && r.subject_tag.length !== 8) return "subject_tag is not 8 bytes";
  return undefined;
}

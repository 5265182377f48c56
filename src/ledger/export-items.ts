import type { StateHandle } from "../state/open-state.js";
import { itemsOf } from "./item-query.js";
import { batchSecret, itemSalt } from "./items.js";
import type { LedgerEntry } from "./types.js";

/** A line of `audit export`: an entry, or one item of the batch entry before it. */
export type ExportLine = Partial<LedgerEntry> & { salt?: string };

/**
 * The items of batch entry `seq` as `audit export` writes them: seq, index,
 * key (or key tag), subject tag and the item's salt, which is all a third
 * party needs to recompute the batch's Merkle root (docs/ledger.md).
 *
 * @example
 * for await (const line of exportItems(state, ledger.saltKey, 12)) console.log(JSON.stringify(line));
 */
export async function* exportItems(state: StateHandle, saltKey: Buffer, seq: number): AsyncGenerator<ExportLine> {
  const secret = batchSecret(saltKey, seq);
  for await (const r of itemsOf(state.db, [seq])) {
    const idx = Number(r.idx);
    const line: ExportLine = { seq, item: idx };
    if (r.item_key !== null) line.key = Number(r.item_key);
    if (r.key_tag !== null) line.keyTag = Buffer.from(r.key_tag).toString("hex");
    if (r.subject_tag !== null) line.subjectTag = Buffer.from(r.subject_tag).toString("hex");
    line.salt = itemSalt(secret, idx).toString("hex");
    yield line;
  }
}

import type { StateHandle } from "../state/open-state.js";
import { itemEntry, itemRows } from "./item-query.js";
import { batchSecret, itemSalt } from "./items.js";
import type { LedgerEntry } from "./types.js";

/** A line of `audit export`: an entry, or one item of the batch entry before it (with its salt). */
export type ExportLine = LedgerEntry & { salt?: string };

/**
 * The items of a batch entry as `audit export` writes them: each as its own
 * record (the batch's time, action, dataset, reason and run; the item's key
 * or key tag and subject tag) plus the item's salt, which is all a third
 * party needs to recompute the batch's Merkle root (docs/ledger.md).
 *
 * @example
 * for await (const line of exportItems(state, ledger.saltKey, batchEntry)) console.log(JSON.stringify(line));
 */
export async function* exportItems(
  state: StateHandle,
  saltKey: Buffer,
  batch: LedgerEntry,
): AsyncGenerator<ExportLine> {
  const secret = batchSecret(saltKey, batch.seq);
  for await (const r of itemRows(state.db, { seqs: [batch.seq] }))
    yield { ...itemEntry(batch, r), salt: itemSalt(secret, Number(r.idx)).toString("hex") };
}

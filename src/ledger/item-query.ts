import type { Kysely } from "kysely";
import type { LedgerItemsTable, LedgerTable, StateDatabase } from "../state/schema.js";
import type { LedgerEntry } from "./types.js";

/** Marks a v2 batch entry: its data starts with the item count (Ledger.appendInTx writes it first). */
export const BATCH_DATA_PREFIX = '{"items":';

export function isBatchRow(row: Pick<LedgerTable, "data">): boolean {
  return row.data?.startsWith(BATCH_DATA_PREFIX) ?? false;
}

/** One item of a batch entry as `audit log` shows it: the batch entry's fields, the item's own key and tags. */
export function itemEntry(batch: LedgerEntry, item: LedgerItemsTable, subjectHash?: string): LedgerEntry {
  const e: LedgerEntry = {
    seq: batch.seq,
    item: Number(item.idx),
    at: batch.at,
    action: batch.action,
    prevHash: batch.prevHash,
    hash: batch.hash,
  };
  if (batch.dataset !== undefined) e.dataset = batch.dataset;
  if (item.item_key !== null) e.key = Number(item.item_key);
  if (item.key_tag) e.keyTag = Buffer.from(item.key_tag).toString("hex");
  if (item.subject_tag) {
    e.subjectTag = Buffer.from(item.subject_tag).toString("hex");
    // A subject query knows the full HMAC its tag was cut from.
    if (subjectHash?.startsWith(e.subjectTag)) e.subjectHash = subjectHash;
  }
  if (batch.reason !== undefined) e.reason = batch.reason;
  if (batch.runId !== undefined) e.runId = batch.runId;
  return e;
}

/** The items of the given batch entries, in (seq, idx) order, read in slices. */
export async function* itemsOf(
  db: Kysely<StateDatabase>,
  seqs: number[],
  slice = 20_000,
): AsyncGenerator<LedgerItemsTable> {
  for (let i = 0; i < seqs.length; i += 500) {
    const part = seqs.slice(i, i + 500);
    let afterSeq = -1;
    let afterIdx = -1;
    for (;;) {
      const rows = await db
        .selectFrom("ledger_items")
        .selectAll()
        .where("seq", "in", part)
        .where((eb) => eb.or([eb("seq", ">", afterSeq), eb.and([eb("seq", "=", afterSeq), eb("idx", ">", afterIdx)])]))
        .orderBy("seq")
        .orderBy("idx")
        .limit(slice)
        .execute();
      yield* rows;
      if (rows.length < slice) break;
      const last = rows[rows.length - 1] as LedgerItemsTable;
      afterSeq = Number(last.seq);
      afterIdx = Number(last.idx);
    }
  }
}

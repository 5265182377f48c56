import type { Kysely } from "kysely";
import type { LedgerItemsTable, LedgerTable, StateDatabase } from "../state/schema.js";
import type { LedgerEntry } from "./types.js";

/** Marks a v2 batch entry: its data starts with the item count (Ledger.appendInTx writes it first). */
export const BATCH_DATA_PREFIX = '{"items":';

/**
 * Whether a ledger row is a v2 batch entry (its items are in ledger_items).
 *
 * @example
 * if (isBatchRow(row)) for await (const item of itemRows(db, { seqs: [row.seq] })) show(item);
 */
export function isBatchRow(row: Pick<LedgerTable, "data">): boolean {
  return row.data?.startsWith(BATCH_DATA_PREFIX) ?? false;
}

/**
 * A deletion recorded item by item, as ledgers did before v2 (a key, no data): since migration 0011 every
 * deleted or shredded item without data of its own is folded into a batch (batch-entries.ts).
 *
 * @example
 * isV1ItemRow({ action: "deleted", item_key: "42", key_hash: "…", data: null }); // true
 */
export function isV1ItemRow(row: Pick<LedgerTable, "action" | "item_key" | "key_hash" | "data">): boolean {
  return (
    (row.action === "deleted" || row.action === "shredded") &&
    (row.item_key !== null || row.key_hash !== null) &&
    row.data === null
  );
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

/** Which batch entries' items to read: a list of entries, or every entry in `from…to`. */
export type ItemScope = { seqs: number[] } | { from: number; to: number };

/**
 * The item rows of the batch entries in `scope`, in (seq, idx) order, read
 * in slices on the primary key, so a batch of any size is streamed.
 *
 * @example
 * for await (const row of itemRows(db, { from: 1, to: 500 })) check(row);
 */
export async function* itemRows(
  db: Kysely<StateDatabase>,
  scope: ItemScope,
  slice = 20_000,
): AsyncGenerator<LedgerItemsTable> {
  for await (const rows of itemSlices(db, scope, slice)) yield* rows;
}

/**
 * The same rows as {@link itemRows}, one slice (one query) at a time: a pass over millions of rows (verification)
 * loops over each slice synchronously instead of paying an async step per row.
 *
 * @example
 * for await (const rows of itemSlices(db, { from: 1, to: 500 })) for (const r of rows) check(r);
 */
export async function* itemSlices(
  db: Kysely<StateDatabase>,
  scope: ItemScope,
  slice = 20_000,
): AsyncGenerator<LedgerItemsTable[]> {
  const parts = "seqs" in scope ? chunks(scope.seqs, 500) : [undefined];
  for (const part of parts) {
    // Every row lies past (first − 1, −1); each later slice goes on after the last row read.
    let afterSeq = part ? -1 : ("from" in scope ? scope.from : 0) - 1;
    let afterIdx = -1;
    for (;;) {
      let q = db.selectFrom("ledger_items").selectAll();
      if (part) q = q.where("seq", "in", part);
      else if ("from" in scope) q = q.where("seq", ">=", scope.from).where("seq", "<=", scope.to);
      const rows = await q
        .where((eb) => eb.or([eb("seq", ">", afterSeq), eb.and([eb("seq", "=", afterSeq), eb("idx", ">", afterIdx)])]))
        .orderBy("seq")
        .orderBy("idx")
        .limit(slice)
        .execute();
      if (rows.length > 0) yield rows;
      if (rows.length < slice) break;
      const last = rows[rows.length - 1] as LedgerItemsTable;
      afterSeq = Number(last.seq);
      afterIdx = Number(last.idx);
    }
  }
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

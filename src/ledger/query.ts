import type { StateHandle } from "../state/open-state.js";
import type { LedgerTable } from "../state/schema.js";
import type { Ledger } from "./ledger.js";
import { itemIs, subjectIs } from "./lookup.js";
import type { LedgerEntry } from "./types.js";

/** Maps a stored row to the DESIGN.md entry shape, omitting empty fields. */
export function toEntry(row: LedgerTable): LedgerEntry {
  const e: LedgerEntry = {
    seq: Number(row.seq),
    at: row.at,
    action: row.action,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.dataset !== null) e.dataset = row.dataset;
  if (row.item_key !== null) e.key = Number(row.item_key);
  if (row.key_hash !== null) e.keyHash = row.key_hash;
  if (row.subject_hash !== null) e.subjectHash = row.subject_hash;
  if (row.reason !== null) e.reason = row.reason;
  if (row.run_id !== null) e.runId = row.run_id;
  if (row.data !== null) e.data = JSON.parse(row.data) as Record<string, unknown>;
  return e;
}

export interface AuditQuery {
  subject?: string;
  dataset?: string;
  key?: string;
  runId?: string;
  limit?: number;
  /** With a limit: the newest entries instead of the oldest (returned oldest first either way). */
  newest?: boolean;
}

/**
 * "What happened to user U / to item K?" The subject and key are HMAC'd here,
 * so the question is answered without the ledger ever holding them.
 *
 * @example
 * await auditLog(state, ledger, { subject: "user-42" });
 */
export async function auditLog(state: StateHandle, ledger: Ledger, q: AuditQuery): Promise<LedgerEntry[]> {
  let query = state.db.selectFrom("ledger").selectAll();
  if (q.subject !== undefined) query = query.where(subjectIs(ledger.subjectHash(q.subject)));
  if (q.dataset !== undefined) query = query.where("dataset", "=", q.dataset);
  if (q.runId !== undefined) query = query.where("run_id", "=", q.runId);
  if (q.key !== undefined) {
    const refs = q.dataset !== undefined ? [q.key, ledger.keyHash(q.dataset, q.key)] : [q.key];
    query = query.where(itemIs(refs));
  }
  const rows = await query
    .orderBy("seq", q.newest ? "desc" : "asc")
    .limit(q.limit ?? 100_000)
    .execute();
  if (q.newest) rows.reverse();
  return rows.map(toEntry);
}

/** The stored ledger rows, oldest first, a page at a time (verification and export). */
export async function* ledgerRows(state: Pick<StateHandle, "db">, page = 5000, after = 0): AsyncGenerator<LedgerTable> {
  for (;;) {
    const rows = await state.db
      .selectFrom("ledger")
      .selectAll()
      .where("seq", ">", after)
      .orderBy("seq")
      .limit(page)
      .execute();
    yield* rows;
    if (rows.length < page) return;
    after = Number(rows[rows.length - 1]?.seq);
  }
}

/** Streams the whole ledger as entries, oldest first. */
export async function* allEntries(state: StateHandle, page = 5000): AsyncGenerator<LedgerEntry> {
  for await (const row of ledgerRows(state, page)) yield toEntry(row);
}

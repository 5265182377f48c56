import type { StateHandle } from "../state/open-state.js";
import type { LedgerTable } from "../state/schema.js";
import { isBatchRow, itemEntry, itemRows } from "./item-query.js";
import { tagOf } from "./items.js";
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
 * so the question is answered without the ledger ever holding them. Items
 * of v2 batch entries are answered one by one (`item` is the index in the
 * batch), as the per-item entries of older ledgers are.
 *
 * @example
 * await auditLog(state, ledger, { subject: "user-42" });
 */
export async function auditLog(state: StateHandle, ledger: Ledger, q: AuditQuery): Promise<LedgerEntry[]> {
  const limit = q.limit ?? 100_000;
  const dir = q.newest ? "desc" : "asc";
  const sh = q.subject !== undefined ? ledger.subjectHash(q.subject) : undefined;
  let query = state.db.selectFrom("ledger").selectAll();
  if (sh !== undefined) query = query.where(subjectIs(sh));
  if (q.dataset !== undefined) query = query.where("dataset", "=", q.dataset);
  if (q.runId !== undefined) query = query.where("run_id", "=", q.runId);
  if (q.key !== undefined) {
    const refs = q.dataset !== undefined ? [q.key, ledger.keyHash(q.dataset, q.key)] : [q.key];
    query = query.where(itemIs(refs));
  }
  const rows = await query.orderBy("seq", dir).limit(limit).execute();
  const out: LedgerEntry[] = [];
  if (sh === undefined && q.key === undefined) {
    // No item filter: each batch entry stands for its items, in their order.
    for (const row of rows) {
      if (out.length >= limit) break;
      const e = toEntry(row);
      if (!isBatchRow(row)) out.push(e);
      else for await (const it of itemRows(state.db, { seqs: [e.seq] })) out.push(itemEntry(e, it));
    }
  } else {
    out.push(...rows.map(toEntry));
    out.push(...(await matchingItems(state, ledger, q, sh, dir, limit)));
  }
  out.sort((a, b) => a.seq - b.seq || (a.item ?? -1) - (b.item ?? -1));
  return q.newest ? out.slice(Math.max(0, out.length - limit)) : out.slice(0, limit);
}

/** Items of v2 batches whose subject tag or key (clear integer or tag) match the query. */
async function matchingItems(
  state: StateHandle,
  ledger: Ledger,
  q: AuditQuery,
  sh: string | undefined,
  dir: "asc" | "desc",
  limit: number,
): Promise<LedgerEntry[]> {
  let iq = state.db.selectFrom("ledger_items as i").innerJoin("ledger as l", "l.seq", "i.seq").selectAll("i");
  if (sh !== undefined) iq = iq.where("i.subject_tag", "=", tagOf(sh));
  if (q.key !== undefined) {
    const key = q.key;
    const n = Number(key);
    const asInt = Number.isSafeInteger(n) && String(n) === key ? n : undefined;
    const tag = q.dataset !== undefined ? tagOf(ledger.keyHash(q.dataset, key)) : undefined;
    if (asInt === undefined && tag === undefined) return [];
    iq = iq.where((eb) =>
      eb.or([
        ...(asInt !== undefined ? [eb("i.item_key", "=", asInt)] : []),
        // A tag stands for a key only where no clear key was recorded (the append writes one or the other):
        // a tag planted beside a clear key must not make a lookup list a deletion that never happened.
        ...(tag !== undefined ? [eb.and([eb("i.key_tag", "=", tag), eb("i.item_key", "is", null)])] : []),
      ]),
    );
  }
  if (q.dataset !== undefined) iq = iq.where("l.dataset", "=", q.dataset);
  if (q.runId !== undefined) iq = iq.where("l.run_id", "=", q.runId);
  const items = await iq.orderBy("i.seq", dir).orderBy("i.idx", dir).limit(limit).execute();
  const seqs = [...new Set(items.map((i) => Number(i.seq)))];
  const batches = new Map<number, LedgerEntry>();
  for (let i = 0; i < seqs.length; i += 500) {
    const part = await state.db
      .selectFrom("ledger")
      .selectAll()
      .where("seq", "in", seqs.slice(i, i + 500))
      .execute();
    for (const r of part) batches.set(Number(r.seq), toEntry(r));
  }
  return items.flatMap((it) => {
    const b = batches.get(Number(it.seq));
    return b ? [itemEntry(b, it, sh)] : [];
  });
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

import type { EntryInput, ItemInput, LedgerAction } from "./types.js";

/** Item outcomes that are recorded as v2 batches: one entry per batch, one compact row per item. */
const BATCHED: ReadonlySet<LedgerAction> = new Set(["deleted", "shredded"]);

/**
 * Folds per-item outcome entries (`deleted` / `shredded` with a key and no
 * per-item data) into one batch entry per (action, dataset, run, reason),
 * at the place of the group's first item; every other entry keeps its place.
 * Callers describe what happened item by item; how it is stored is the
 * ledger's business.
 *
 * @example
 * groupItems([{ action: "deleted", dataset: "logs", key: 1 }, { action: "deleted", dataset: "logs", key: 2 }]);
 * // → [{ action: "deleted", dataset: "logs", items: [{ key: 1 }, { key: 2 }] }]
 */
export function groupItems(entries: readonly EntryInput[]): EntryInput[] {
  const out: EntryInput[] = [];
  const groups = new Map<string, ItemInput[]>();
  let lastEntry: EntryInput | undefined;
  let lastItems: ItemInput[] = [];
  for (const e of entries) {
    if (!BATCHED.has(e.action) || e.key === undefined || e.data !== undefined || e.items !== undefined) {
      out.push(e);
      continue;
    }
    // A batch's entries come in a row with the same group fields: no key string built per item for them.
    let items = lastEntry && sameGroup(lastEntry, e) ? lastItems : undefined;
    if (!items) {
      const id = groupId(e);
      items = groups.get(id);
      if (!items) {
        items = [];
        groups.set(id, items);
        const batch: EntryInput = { action: e.action, items };
        if (e.dataset !== undefined) batch.dataset = e.dataset;
        if (e.runId !== undefined) batch.runId = e.runId;
        if (e.reason !== undefined) batch.reason = e.reason;
        out.push(batch);
      }
      lastEntry = e;
      lastItems = items;
    }
    const item: ItemInput = { key: e.key };
    if (e.subjectHash !== undefined) item.subjectHash = e.subjectHash;
    else if (e.subject) item.subject = e.subject;
    items.push(item);
  }
  return out;
}

/** NUL cannot occur in an action, dataset name or run id; a reason is last, so the id is unambiguous. */
function groupId(e: EntryInput): string {
  return `${e.action}\0${e.dataset ?? "\u0001"}\0${e.runId ?? "\u0001"}\0${e.reason === undefined ? "\u0001" : `=${e.reason}`}`;
}

function sameGroup(a: EntryInput, b: EntryInput): boolean {
  return a.action === b.action && a.dataset === b.dataset && a.runId === b.runId && a.reason === b.reason;
}

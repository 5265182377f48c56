import type { ActiveHolds, Hold } from "../core/holds.js";
import type { DatasetDriver, ExpiredSummary, Item } from "../core/types.js";

/** Turns a raw subject id into its HMAC (the ledger's `subjectHash`). */
export type SubjectHasher = (subject: string) => string;

/**
 * The hold rule, the one place it is written: an item is held when its
 * dataset is held or its subject is (a dataset hold wins, so its id is the
 * one reported). Retention, erasure, events, the janitor and the planner all
 * ask here.
 *
 * @example
 * const hold = holdFor(holds, "chats", ledgerHashOf("user-42"));
 * if (hold) console.log(`kept by ${hold.id}`);
 */
export function holdFor(holds: ActiveHolds, dataset: string, subjectHash: string | undefined): Hold | undefined {
  return holds.datasets.get(dataset) ?? (subjectHash ? holds.subjects.get(subjectHash) : undefined);
}

/**
 * The hold keeping one item back, if any.
 *
 * @example
 * if (itemHold(holds, ds.config.name, item, hash)) continue;
 */
export function itemHold(holds: ActiveHolds, dataset: string, item: Item, hash: SubjectHasher): Hold | undefined {
  return holdFor(holds, dataset, item.subject ? hash(item.subject) : undefined);
}

/**
 * How many of a summary's expired items fall under an active hold (the
 * summary must carry `bySubject` when subject holds exist).
 *
 * @example
 * const held = heldCount(ds, await ds.summarizeExpired(now, { bySubject: true }), holds, hash);
 */
export function heldCount(ds: DatasetDriver, s: ExpiredSummary, holds: ActiveHolds, hash: SubjectHasher): number {
  if (holds.datasets.has(ds.config.name)) return s.expired;
  if (!s.bySubject || holds.subjects.size === 0) return 0;
  let n = 0;
  for (const [subject, count] of s.bySubject) if (holds.subjects.has(hash(subject))) n += count;
  return n;
}

/** Whether a summary must group by subject for `heldCount` to be exact. */
export function needsBySubject(holds: ActiveHolds): boolean {
  return holds.subjects.size > 0;
}

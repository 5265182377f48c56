import type { FailedItem, Item } from "../core/types.js";
import type { EntryInput } from "../ledger/types.js";
import { type BatchContext, type BatchCounts, countFailure, type ExecutorDeps } from "./delete-batch.js";
import { closeIntent } from "./intents.js";
import { narrowIntent } from "./unknown-outcome.js";

/** What a driver call left to record, after any lost reply was settled as far as it could be. */
export interface BatchOutcome {
  /** Entries for what was done (`deleted`, `ttl_set`, linked files…). */
  entries: EntryInput[];
  failed: FailedItem[];
  /** Items whose outcome is still unknown: their intent stays open for the next run's reconcile. */
  pending: Item[];
  /** The failure reason counted for each pending item. */
  pendingReason: string;
}

/**
 * The last step of every batch (delete or expire): failures become `failed`
 * entries and counts, still-unknown items stay in a narrowed intent, and the
 * entries commit together with closing (or narrowing) the intent, so a crash
 * leaves either both or neither.
 *
 * @example
 * await recordOutcome(deps, ctx, "logs", intentId, { entries, failed, pending: [], pendingReason }, counts);
 */
export async function recordOutcome(
  deps: ExecutorDeps,
  ctx: BatchContext,
  dataset: string,
  intentId: string,
  o: BatchOutcome,
  counts: BatchCounts,
): Promise<void> {
  const entries = [...o.entries];
  for (const f of o.failed) {
    countFailure(deps.ledger, counts, f.item, f.reason, f.permanent);
    entries.push(failedEntry(ctx, dataset, f));
  }
  for (const item of o.pending) countFailure(deps.ledger, counts, item, o.pendingReason, false, "OUTCOME_UNKNOWN");
  await deps.state.db.transaction().execute(async (trx) => {
    if (entries.length > 0) await deps.ledger.appendInTx(trx, entries);
    if (o.pending.length > 0) await narrowIntent(trx, deps.ledger, intentId, o.pending);
    else await closeIntent(trx, intentId);
  });
}

/**
 * The ledger entry of one item its store refused to delete (both the intent and the same-database path).
 *
 * @example
 * entries.push(failedEntry(ctx, "prompts", { item, reason: "foreign key" }));
 */
export function failedEntry(ctx: BatchContext, dataset: string, f: { item: Item; reason: string }): EntryInput {
  return { action: "failed", dataset, key: f.item.key, subject: f.item.subject, reason: f.reason, runId: ctx.runId };
}

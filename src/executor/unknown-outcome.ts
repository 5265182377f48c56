import type { DatasetDriver, DeleteResult, Item } from "../core/types.js";
import type { StateTx } from "../state/dialect.js";
import { type IntentPayload, type IntentSealer, updateIntentPayload } from "./intents.js";

/** Why an item whose delete had an unknown outcome and still exists failed this run. */
export const STILL_PRESENT = "outcome unknown (the connection was lost during the delete); still present, retried";

/**
 * A driver answered "outcome unknown" for some items (the delete was sent,
 * the reply lost): ask the store which still exist. Those gone were deleted
 * by that statement (or by someone else: either way gone, and this intent is
 * the only record that can say so); those left failed this run.
 * Returns undefined when the store cannot answer now either.
 *
 * @example
 * const settled = await settleUnknown(ds, result);
 */
export async function settleUnknown(ds: DatasetDriver, result: DeleteResult): Promise<DeleteResult | undefined> {
  const unknown = result.unknown ?? [];
  if (unknown.length === 0) return result;
  let still: Set<string>;
  try {
    still = await ds.existing(unknown.map((i) => i.key));
  } catch {
    return undefined;
  }
  return {
    deleted: [...result.deleted, ...unknown.filter((i) => !still.has(String(i.key)))],
    failed: [
      ...result.failed,
      ...unknown.filter((i) => still.has(String(i.key))).map((item) => ({ item, reason: STILL_PRESENT })),
    ],
  };
}

/**
 * Keeps only the unknown items on an intent and marks it for reconciliation
 * whatever its owner's liveness, inside the transaction that records the
 * known outcomes: the next reconcile (any run's start) settles the rest.
 */
export async function narrowIntent(trx: StateTx, ledger: IntentSealer, id: string, unknown: Item[]): Promise<void> {
  const row = await trx
    .selectFrom("intents")
    .select(["id", "run_id", "dataset", "payload"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) return;
  const payload = JSON.parse(row.payload) as IntentPayload;
  const keys = new Set(unknown.map((i) => String(i.key)));
  payload.items = payload.items.filter((i) => keys.has(String(i.k)));
  payload.unknown = true;
  await updateIntentPayload(trx, ledger, row, payload);
}

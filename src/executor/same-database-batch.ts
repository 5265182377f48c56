import type { Kysely } from "kysely";
import { sameSession } from "../core/same-database.js";
import { replyLost } from "../core/statement-error.js";
import type { DatasetDriver, DeleteResult, Item, TransactionalDelete } from "../core/types.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import { type BatchContext, type BatchCounts, countFailure, type ExecutorDeps } from "./delete-batch.js";
import { failedEntry } from "./record-outcome.js";

const LOST =
  "outcome unknown (the connection was lost during the delete's transaction): it committed with its entries or not at all; a row still there is retried at the next run";

/** Decided once per dataset driver: does it live in lethe's state database? */
const decided = new WeakMap<DatasetDriver, TransactionalDelete | null>();

/**
 * The driver's transactional delete when the dataset lives in the same
 * database as lethe's state (see core/same-database.ts), else undefined.
 *
 * @example
 * const tx = sameDatabaseDelete(state, ds); // undefined: the intent path
 */
export function sameDatabaseDelete(state: StateHandle, ds: DatasetDriver): TransactionalDelete | undefined {
  let d = decided.get(ds);
  if (d === undefined) {
    const t = ds.transactional;
    d = t && state.location && sameSession(t.database, state.location) ? t : null;
    decided.set(ds, d);
  }
  return d ?? undefined;
}

class LostReply extends Error {}

/**
 * Same-database mode: the batch `DELETE` and its ledger entries run in one
 * transaction of lethe's state, so a crash or a lost COMMIT reply leaves
 * either both or neither, and no intent is written. A reply lost inside the
 * transaction (to the DELETE: rolled back; to the COMMIT: committed or not,
 * nobody can tell from here) fails the batch with OUTCOME_UNKNOWN and the run
 * goes on: if it committed, its entries are on the ledger with it; if not,
 * its rows are still there and the next run deletes them. Nothing is assumed.
 *
 * @example
 * await deleteInStateTx(deps, ctx, ds, tx, todo, "delete", counts);
 */
export async function deleteInStateTx(
  deps: ExecutorDeps,
  ctx: BatchContext,
  ds: DatasetDriver,
  tx: TransactionalDelete,
  todo: Item[],
  action: "delete" | "shred",
  counts: BatchCounts,
): Promise<void> {
  const dataset = ds.config.name;
  const rowAction = action === "shred" && !ds.capabilities.linkedFiles ? "shredded" : "deleted";
  let result: DeleteResult;
  try {
    result = await deps.state.db.transaction().execute(async (trx) => {
      const r = await tx.deleteBatchIn(trx as unknown as Kysely<unknown>, todo, {
        action,
        ...(ctx.expiredAt ? { expiredAt: ctx.expiredAt } : {}),
      });
      if ((r.unknown ?? []).length > 0) throw new LostReply();
      const entries: EntryInput[] = r.deleted.map((item) => ({
        action: rowAction,
        dataset,
        key: item.key,
        subject: item.subject,
        reason: ctx.reason,
        runId: ctx.runId,
      }));
      for (const f of r.failed) entries.push(failedEntry(ctx, dataset, f));
      if (entries.length > 0) await deps.ledger.appendInTx(trx, entries);
      return r;
    });
  } catch (err) {
    // The rollback after a lost reply fails on the dead connection too, and its error replaces ours.
    if (!(err instanceof LostReply) && !replyLost(err)) throw err;
    for (const item of todo) countFailure(deps.ledger, counts, item, LOST, false, "OUTCOME_UNKNOWN");
    return;
  }
  counts.deleted += result.deleted.length;
  for (const f of result.failed) countFailure(deps.ledger, counts, f.item, f.reason, f.permanent);
}

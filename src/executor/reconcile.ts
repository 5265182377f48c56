import type { DataMap } from "../core/data-map.js";
import { markPurgePending } from "../core/purge-pending.js";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import { reconcileExpireIntent } from "./expire-batch.js";
import { closeIntent, orphanedIntents } from "./intents.js";
import { filesStillLinked, removeLinkedFile } from "./linked-files.js";
import { finishPartitions, partitionFailure, refusedByStore } from "./partition-retention.js";

/**
 * Settles batches a crashed process left between "intent" and "outcome":
 * every listed item that no longer exists gets its `deleted` entry (and its
 * linked file is finished off); items that still exist get nothing and are
 * simply retried by the next run. Never a deletion without a record, never a
 * record of a deletion that did not happen.
 *
 * @example
 * const settled = await reconcile(state, ledger, dataMap); // via Executor.reconcile()
 */
export async function reconcile(state: StateHandle, ledger: Ledger, map: DataMap): Promise<number> {
  let settled = 0;
  for (const intent of await orphanedIntents(state, ledger)) {
    const ds = map.usable(intent.dataset);
    if (!ds) continue; // dataset removed from the config, or a store it needs is down: keep the intent
    if (intent.payload.partitions || intent.payload.partition) {
      // A partition drop is rolled forward (or found never started); not a table that can drop partitions now: keep it.
      if (!ds.partitions) continue;
      settled += await finishPartitions(state, ledger, ds, intent)
        .then(() => 1)
        .catch((err: Error) => {
          // Refused (a lock not granted in time): the intent stays, the next run finishes it.
          if (err.message !== "already reconciled" && !refusedByStore(err)) throw partitionFailure(ledger, ds, err);
          return 0;
        });
      continue;
    }
    const { items, reason, action } = intent.payload;
    if (action === "expire") {
      settled += await settle(state, ledger, intent.id, await reconcileExpireIntent(ds, intent));
      continue;
    }
    const still = await ds.existing(items.map((i) => i.k));
    const files = map.linkedFiles(ds.config);
    const rowAction = action === "shred" && !ds.capabilities.linkedFiles ? "shredded" : "deleted";
    const entries: EntryInput[] = [];
    const gone = items.filter((i) => !still.has(String(i.k)));
    const shared = files
      ? await filesStillLinked(
          files,
          gone.map((i) => ({ file: i.f })),
        )
      : new Set<string>();
    for (const item of gone) {
      const base = { dataset: intent.dataset, key: item.k, subjectHash: item.s, runId: intent.runId };
      entries.push({ ...base, action: rowAction, reason: `${reason} (reconciled after an interrupted run)` });
      const r = await removeLinkedFile(files, item.f, action, base, reason, shared, true);
      if (r.entry) entries.push(r.entry);
    }
    await state.db
      .transaction()
      .execute(async (trx) => {
        if (entries.length > 0) await ledger.appendInTx(trx, entries);
        if (!(await closeIntent(trx, intent.id))) throw new Error("already reconciled");
        // The erased values died with the interrupted run: its store's next purge rewrites unconditionally.
        if (reason === "erasure" && entries.length > 0 && map.stores.get(ds.config.store)?.purge)
          await markPurgePending(trx, ds.config.store);
      })
      .then(() => {
        settled++;
      })
      .catch((err: Error) => {
        if (err.message !== "already reconciled") throw err;
      });
  }
  return settled;
}

/** Records an intent's entries and removes it in one transaction; 0 when another process settled it first. */
async function settle(state: StateHandle, ledger: Ledger, id: string, entries: EntryInput[]): Promise<number> {
  return state.db
    .transaction()
    .execute(async (trx) => {
      if (entries.length > 0) await ledger.appendInTx(trx, entries);
      if (!(await closeIntent(trx, id))) throw new Error("already reconciled");
    })
    .then(() => 1)
    .catch((err: Error) => {
      if (err.message !== "already reconciled") throw err;
      return 0;
    });
}

import { createHash } from "node:crypto";
import type { DatasetDriver, Partition } from "../core/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import type { BatchContext, BatchCounts, ExecutorDeps } from "./delete-batch.js";
import { holdFor } from "./hold-rule.js";
import {
  closeIntent,
  type OpenIntent,
  openPartitionIntent,
  type PartitionIntent,
  updatePartitionIntent,
} from "./intents.js";

/**
 * Retention by whole partitions: a partition whose every row is expired is
 * detached and dropped instead of row-deleted, unless a hold reaches any of
 * its rows (then its rows go the row way, held ones kept and recorded).
 *
 * Order, as for row batches: intent → detach → read every key once through
 * a cursor (recording them, `ledger: items`, or hashing them, `ledger:
 * partitions`) → drop → outcome. Once detached the rows are out of the
 * dataset and the drop is rolled forward: an intent left by a crash is
 * finished by `reconcile`, resuming after the last recorded key.
 *
 * @example
 * const n = await dropExpiredPartitions(deps, ctx, ds, now, counts); // via Executor
 */
export async function dropExpiredPartitions(
  deps: ExecutorDeps,
  ctx: BatchContext,
  ds: DatasetDriver,
  now: Date,
  counts: BatchCounts,
  shouldStop?: () => boolean,
): Promise<number> {
  const parts = ds.partitions;
  // A held dataset keeps every row: the row path records each as held.
  if (!parts || holdFor(ctx.holds, ds.config.name, undefined)) return 0;
  let dropped = 0;
  for (const p of await parts.expired(now)) {
    if (shouldStop?.()) break;
    if (await touchesHold(deps, ctx, ds, p)) continue;
    const partition: PartitionIntent = { ...p, ledger: ds.config.ledger, recorded: 0 };
    const intent = await openPartitionIntent(deps.state, ctx.runId, ds.config.name, ctx.reason, partition);
    await parts.detach(p);
    const rows = await finishPartition(deps.state, deps.ledger, ds, intent);
    counts.found += rows;
    counts.deleted += rows;
    dropped++;
  }
  return dropped;
}

/** Does any row of the partition belong to a subject under an active hold? */
async function touchesHold(deps: ExecutorDeps, ctx: BatchContext, ds: DatasetDriver, p: Partition): Promise<boolean> {
  if (ctx.holds.subjects.size === 0 || !ds.capabilities.subjects || !ds.partitions) return false;
  for await (const batch of ds.partitions.subjects(p, ds.config.batchSize))
    if (batch.some((s) => holdFor(ctx.holds, ds.config.name, deps.ledger.subjectHash(s)))) return true;
  return false;
}

/**
 * Takes a partition drop from wherever its intent says it is to its
 * outcome, and closes the intent with it. Returns the rows dropped.
 * Still attached: the detach never happened, nothing is recorded.
 */
export async function finishPartition(
  state: StateHandle,
  ledger: Ledger,
  ds: DatasetDriver,
  intent: OpenIntent,
): Promise<number> {
  const parts = ds.partitions;
  const p = intent.payload.partition;
  if (!parts || !p) throw new Error("not a partition intent");
  const status = await parts.status(p);
  const entries: EntryInput[] = [];
  const base = { dataset: intent.dataset, runId: intent.runId };
  if (status === "detached") {
    if (p.rows === undefined) await readKeys(state, ledger, ds, intent, p);
    await parts.drop(p);
  }
  if (status !== "attached") {
    const vanished = p.rows === undefined; // dropped by someone else before lethe read every key
    const rows = p.rows ?? p.recorded;
    entries.push({
      ...base,
      action: vanished ? "failed" : "partition_dropped",
      reason: vanished
        ? `${intent.payload.reason}: partition dropped outside lethe before every key was recorded`
        : `${intent.payload.reason}: expired partition dropped`,
      data: {
        partition: p.name,
        from: p.from,
        to: p.to,
        rows,
        ledger: p.ledger,
        ...(p.digest ? { keysDigest: p.digest } : {}),
      },
    });
    p.rows = rows;
  }
  await state.db.transaction().execute(async (trx) => {
    if (entries.length > 0) await ledger.appendInTx(trx, entries);
    if (!(await closeIntent(trx, intent.id))) throw new Error("already reconciled");
  });
  return status === "attached" ? 0 : (p.rows ?? 0);
}

/**
 * The one pass over a detached partition's keys, in key order. `items`:
 * one `deleted` entry per row, committed with the intent's progress so a
 * resumed pass neither repeats nor skips a row. `partitions`: SHA-256 over
 * every key followed by a newline, and the count.
 */
async function readKeys(
  state: StateHandle,
  ledger: Ledger,
  ds: DatasetDriver,
  intent: OpenIntent,
  p: PartitionIntent,
): Promise<void> {
  const parts = ds.partitions as NonNullable<DatasetDriver["partitions"]>;
  const n = ds.config.batchSize;
  if (p.ledger === "items") {
    const reason = `${intent.payload.reason}: partition dropped`;
    for await (const batch of parts.items(p, n, p.after)) {
      const entries: EntryInput[] = batch.map((item) => ({
        action: "deleted",
        dataset: intent.dataset,
        key: item.key,
        subject: item.subject,
        reason,
        runId: intent.runId,
      }));
      p.recorded += batch.length;
      p.after = batch[batch.length - 1]?.key;
      await state.db.transaction().execute(async (trx) => {
        await ledger.appendInTx(trx, entries);
        await updatePartitionIntent(trx, intent.id, intent.payload);
      });
    }
    p.rows = p.recorded;
  } else {
    const hash = createHash("sha256");
    let rows = 0;
    for await (const batch of parts.items(p, n)) {
      for (const item of batch) hash.update(`${item.key}\n`);
      rows += batch.length;
    }
    p.rows = rows;
    p.digest = hash.digest("hex");
  }
  await updatePartitionIntent(state.db, intent.id, intent.payload);
}

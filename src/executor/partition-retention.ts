import { LetheError } from "../core/errors.js";
import { codedReason, safeReason } from "../core/safe-reason.js";
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

/** Partitions dropped together: one intent, one detach transaction, one drop transaction, one outcome commit. */
const PARTITIONS_PER_INTENT = 100;

/**
 * Retention by whole partitions: a partition whose every row is expired is
 * detached and dropped instead of row-deleted, unless a hold reaches any of
 * its rows (then its rows go the row way, held ones kept and recorded).
 *
 * Order, as for row batches, for up to PARTITIONS_PER_INTENT partitions at
 * a time: intent → detach (one transaction) → read every partition's keys
 * once (recording them through a cursor, `ledger: items`, or digesting them
 * inside the database, `ledger: partitions`) → drop (one transaction) →
 * outcome. Once detached the rows are out of the dataset and the drop is
 * rolled forward: an intent left by a crash is finished by `reconcile`,
 * resuming after the last recorded key.
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
): Promise<PartitionDrops> {
  const out: PartitionDrops = { dropped: 0, skipped: [] };
  const parts = ds.partitions;
  // A held dataset keeps every row: the row path records each as held.
  if (!parts || holdFor(ctx.holds, ds.config.name, undefined)) return out;
  // Only refusals reach here: partitionError's coded text (SQLSTATE, never the database's words), scrubbed again.
  const skip = (chunk: Partition[], err: unknown, then: string) => {
    const reason = deps.ledger.scrubText(`${(err as Error).message}; ${then}`);
    for (const p of chunk) out.skipped.push({ partition: p.name, reason });
  };
  try {
    const free: Partition[] = [];
    for (const p of await parts.expired(now)) if (!(await touchesHold(deps, ctx, ds, p))) free.push(p);
    for (let i = 0; i < free.length; i += PARTITIONS_PER_INTENT) {
      if (shouldStop?.()) break;
      const chunk = free.slice(i, i + PARTITIONS_PER_INTENT);
      const partitions: PartitionIntent[] = chunk.map((p) => ({ ...p, ledger: ds.config.ledger, recorded: 0 }));
      const intent = await openPartitionIntent(
        deps.state,
        deps.ledger,
        ctx.runId,
        ds.config.name,
        ctx.reason,
        partitions,
      );
      try {
        await parts.detach(chunk);
      } catch (err) {
        // Refused (a lock the application held past the timeout): nothing was detached, the intent closes
        // empty and the rows go the row way below, which takes no exclusive lock. Otherwise the outcome is
        // unknown: the intent stays for reconcile.
        if (!refusedByStore(err)) throw await forReconcile(deps, intent, err);
        await finishPartitions(deps.state, deps.ledger, ds, intent);
        skip(chunk, err, "their rows were deleted row by row instead");
        continue;
      }
      let rows: number;
      try {
        rows = await finishPartitions(deps.state, deps.ledger, ds, intent);
      } catch (err) {
        // Detached, not dropped: out of the table; the intent stays and the next run (or start) drops them.
        await forReconcile(deps, intent, err);
        if (!refusedByStore(err)) throw err;
        skip(chunk, err, "detached, to be dropped by the next run");
        continue;
      }
      counts.found += rows;
      counts.deleted += rows;
      out.dropped += chunk.length;
    }
  } catch (err) {
    throw partitionFailure(deps.ledger, ds, err);
  }
  return out;
}

/**
 * A failed partition step as the error a run or a reconcile reports: a database or system error by its code
 * alone (its words may quote a row or a key), never as a crash with a stack; lethe's own errors (no code) by
 * their text.
 *
 * @example
 * await finishPartitions(state, ledger, ds, intent).catch((err) => { throw partitionFailure(ledger, ds, err); });
 */
export function partitionFailure(ledger: Ledger, ds: DatasetDriver, err: unknown): LetheError {
  if (err instanceof LetheError) return err;
  const why = typeof (err as { code?: unknown } | undefined)?.code === "string" ? codedReason(err) : safeReason(err);
  return new LetheError(
    "STORE_ERROR",
    `datasets.${ds.config.name}: partition retention: ${ledger.scrubText(why)}`,
    undefined,
    {
      cause: err,
    },
  );
}

/**
 * Marks an intent left open by a failed step for the next reconcile, even in
 * this process (`lethe serve` runs apply again without restarting); returns
 * the error to rethrow.
 */
async function forReconcile(deps: ExecutorDeps, intent: OpenIntent, err: unknown): Promise<unknown> {
  intent.payload.unknown = true;
  await updatePartitionIntent(deps.state.db, deps.ledger, intent, intent.payload).catch(() => undefined);
  return err;
}

/** What partition retention did for one dataset: partitions dropped, and those it meant to drop but could not. */
export interface PartitionDrops {
  dropped: number;
  skipped: { partition: string; reason: string }[];
}

/**
 * A partition step the database refused: nothing happened (see PartitionDriver.detach).
 *
 * @example
 * await driver.detach(p).catch((err) => (refusedByStore(err) ? skip(p, err) : Promise.reject(err)));
 */
export function refusedByStore(err: unknown): boolean {
  return err instanceof LetheError && err.code === "STORE_ERROR" && err.details?.refused === true;
}

/** Does any row of the partition belong to a subject under an active hold? */
async function touchesHold(deps: ExecutorDeps, ctx: BatchContext, ds: DatasetDriver, p: Partition): Promise<boolean> {
  if (ctx.holds.subjects.size === 0 || !ds.capabilities.subjects || !ds.partitions) return false;
  for await (const batch of ds.partitions.subjects(p, ds.config.batchSize))
    if (batch.some((s) => holdFor(ctx.holds, ds.config.name, deps.ledger.subjectHash(s)))) return true;
  return false;
}

/**
 * Takes the partition drops of one intent from wherever the intent says
 * they are to their outcome, and closes the intent with it. Returns the
 * rows dropped. A partition still attached was never detached (the detach
 * is one transaction): nothing is recorded for it.
 */
export async function finishPartitions(
  state: StateHandle,
  ledger: Ledger,
  ds: DatasetDriver,
  intent: OpenIntent,
): Promise<number> {
  const parts = ds.partitions;
  const { payload } = intent;
  const ps = payload.partitions ?? (payload.partition ? [payload.partition] : []);
  if (!parts || ps.length === 0) throw new Error("not a partition intent");
  const status = await parts.status(ps);
  const detached = ps.filter((p) => status.get(p.name) === "detached");
  const unread = detached.filter((p) => p.rows === undefined);
  const digests = await parts.digests(unread.filter((p) => p.ledger === "partitions"));
  for (const p of unread) {
    const d = digests.get(p.name);
    if (p.ledger === "items") await recordKeys(state, ledger, ds, intent, p);
    else if (d) [p.rows, p.digest] = [d.rows, d.digest];
    else throw new Error(`no key digest for partition ${p.name}`);
  }
  if (unread.length > 0) await updatePartitionIntent(state.db, ledger, intent, payload);
  await parts.drop(detached);
  const entries: EntryInput[] = [];
  const base = { dataset: intent.dataset, runId: intent.runId };
  let dropped = 0;
  for (const p of ps) {
    if (status.get(p.name) === "attached") continue;
    const vanished = p.rows === undefined; // dropped by someone else before lethe read every key
    const rows = p.rows ?? p.recorded;
    entries.push({
      ...base,
      action: vanished ? "failed" : "partition_dropped",
      reason: vanished
        ? `${payload.reason}: partition dropped outside lethe before every key was recorded`
        : `${payload.reason}: expired partition dropped`,
      data: {
        partition: p.name,
        from: p.from,
        to: p.to,
        rows,
        ledger: p.ledger,
        ...(p.digest ? { keysDigest: p.digest } : {}),
      },
    });
    dropped += rows;
  }
  await state.db.transaction().execute(async (trx) => {
    if (entries.length > 0) await ledger.appendInTx(trx, entries);
    if (!(await closeIntent(trx, intent.id))) throw new Error("already reconciled");
  });
  return dropped;
}

/**
 * `ledger: items`: the one pass over a detached partition's keys, in key
 * order, one `deleted` entry per row, committed with the intent's progress
 * so a resumed pass neither repeats nor skips a row. (`ledger: partitions`
 * reads them inside the database instead: the driver's `digests`.)
 */
async function recordKeys(
  state: StateHandle,
  ledger: Ledger,
  ds: DatasetDriver,
  intent: OpenIntent,
  p: PartitionIntent,
): Promise<void> {
  const parts = ds.partitions as NonNullable<DatasetDriver["partitions"]>;
  const reason = `${intent.payload.reason}: partition dropped`;
  for await (const batch of parts.items(p, ds.config.batchSize, p.after)) {
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
      await updatePartitionIntent(trx, ledger, intent, intent.payload);
    });
  }
  p.rows = p.recorded;
}

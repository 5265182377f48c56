import type { DataMap } from "../core/data-map.js";
import type { ErrorCode } from "../core/errors.js";
import type { ActiveHolds } from "../core/holds.js";
import { keyProblem } from "../core/keys/canonical-key.js";
import type { DatasetDriver, Item } from "../core/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import { holdFor } from "./hold-rule.js";
import { openIntent } from "./intents.js";
import { filesStillLinked, removeLinkedFile } from "./linked-files.js";
import { recordOutcome } from "./record-outcome.js";
import { deleteInStateTx, sameDatabaseDelete } from "./same-database-batch.js";
import { settleUnknown } from "./unknown-outcome.js";

const PENDING = "outcome unknown (the connection was lost during the delete); reconciled at the next run";

export interface BatchCounts {
  found: number;
  deleted: number;
  held: number;
  failed: number;
  filesRemoved: number;
  /** Lifetimes shortened (Redis TTLs set or lowered) by retention of an `action: expire` dataset. */
  ttlSet: number;
  /** Hold ids that kept something back, with their reasons. */
  holdsHit: Map<string, string>;
  /**
   * `permanent`: refused for what the item is (see FailedItem); an event does not try it again.
   * `code`: set when the failure has one of lethe's error codes (OUTCOME_UNKNOWN: a lost reply).
   */
  failures: { key: string | number; reason: string; permanent?: boolean; code?: ErrorCode }[];
}

/**
 * Counts one item's failure in a run's result, its reason masked exactly as its `failed` entry's on the
 * ledger (a store's error text may quote the row: a trigger's message, a constraint's detail).
 *
 * @example
 * countFailure(ledger, counts, item, f.reason);
 */
export function countFailure(
  ledger: Ledger,
  counts: BatchCounts,
  item: { key: string | number; subject?: string | null | undefined },
  reason: string,
  permanent?: boolean,
  code?: ErrorCode,
): void {
  counts.failed++;
  counts.failures.push({
    key: item.key,
    reason: ledger.itemReason(reason, item),
    ...(permanent ? { permanent } : {}),
    ...(code ? { code } : {}),
  });
}

export function emptyCounts(): BatchCounts {
  return {
    found: 0,
    deleted: 0,
    held: 0,
    failed: 0,
    filesRemoved: 0,
    ttlSet: 0,
    holdsHit: new Map(),
    failures: [],
  };
}

export interface BatchContext {
  holds: ActiveHolds;
  runId: string;
  /** `retention`, `erasure`, `event`… recorded on every entry. */
  reason: string;
  /** Retention re-checks expiry inside the delete; erasure does not. */
  expiredAt?: Date;
  /**
   * Held items are counted but get no `held` entry (the janitor: a hold it
   * meets every 15 minutes is not news; retention and erasure record them).
   */
  quietHolds?: boolean;
}

/** What the executor's functions share: lethe's state, the ledger, the data map. */
export interface ExecutorDeps {
  state: StateHandle;
  ledger: Ledger;
  map: DataMap;
}

/**
 * The one deletion path every feature uses: split off held items (recorded
 * as `held`), write the intent, delete the batch, remove row-linked files,
 * then record every outcome and drop the intent in one state transaction.
 * A dataset in lethe's state database without linked files skips the intent:
 * delete and entries commit together (same-database-batch.ts).
 *
 * @example
 * await deleteBatch(deps, ctx, ds, items, counts);
 */
export async function deleteBatch(
  deps: ExecutorDeps,
  ctx: BatchContext,
  ds: DatasetDriver,
  batch: Item[],
  counts: BatchCounts,
): Promise<void> {
  // With SQLite state and targets every await resolves at once, so a long run would be one unbroken
  // microtask chain: yield once per batch so timers (lease heartbeats) and HTTP requests still run.
  await new Promise((resolve) => setImmediate(resolve));
  const { state, ledger } = deps;
  const name = ds.config.name;
  // Erasure and events delete now, also from a dataset whose retention only shortens lifetimes.
  const action = ds.config.action === "shred" ? "shred" : "delete";
  const todo = await splitHeld(ledger, ctx, ds, batch, counts);
  if (todo.length === 0) return;

  const files = deps.map.linkedFiles(ds.config);
  // Row-linked files are removed outside any transaction: their intent is what finishes them after a crash.
  const tx = files ? undefined : sameDatabaseDelete(state, ds);
  if (tx) return deleteInStateTx(deps, ctx, ds, tx, todo, action, counts);
  const intentId = await openIntent(
    state,
    ledger,
    ctx.runId,
    name,
    ctx.reason,
    action,
    todo.map((i) => ({
      k: i.key,
      ...(i.file ? { f: i.file } : {}),
      ...(i.subject ? { s: ledger.subjectHash(i.subject) } : {}),
    })),
  );
  const sent = await ds.deleteBatch(todo, { action, ...(ctx.expiredAt ? { expiredAt: ctx.expiredAt } : {}) });
  // An unknown outcome is settled by asking which keys still exist; if even that fails, the intent stays.
  const settled = await settleUnknown(ds, sent);
  const result = settled ?? { deleted: sent.deleted, failed: sent.failed };
  const rowAction = action === "shred" && !ds.capabilities.linkedFiles ? "shredded" : "deleted";
  const entries: EntryInput[] = [];
  const shared = files ? await filesStillLinked(files, result.deleted) : new Set<string>();
  for (const item of result.deleted) {
    const base = { dataset: name, key: item.key, subject: item.subject, runId: ctx.runId };
    entries.push({
      dataset: name,
      key: item.key,
      subject: item.subject,
      runId: ctx.runId,
      action: rowAction,
      reason: ctx.reason,
    });
    // No linked files (an fs sweep, most tables): no promise per deleted item.
    if (!files || !item.file) continue;
    const r = await removeLinkedFile(files, item.file, action, base, ctx.reason, shared, false);
    if (r.entry) entries.push(r.entry);
    if (r.removed) counts.filesRemoved++;
    if (r.failure) countFailure(ledger, counts, item, r.failure);
  }
  counts.deleted += result.deleted.length;
  const pending = settled ? [] : (sent.unknown ?? []);
  await recordOutcome(
    deps,
    ctx,
    name,
    intentId,
    { entries, failed: result.failed, pending, pendingReason: PENDING },
    counts,
  );
}

/**
 * Counts a batch, refuses keys that are not canonical (recorded as
 * `failed`) and splits off the items an active hold keeps, recording each
 * as `held` (unless `quietHolds`); returns the others.
 *
 * @example
 * const todo = await splitHeld(ledger, ctx, ds, batch, counts); // only these may be deleted
 */
export async function splitHeld(
  ledger: Ledger,
  ctx: BatchContext,
  ds: DatasetDriver,
  batch: Item[],
  counts: BatchCounts,
): Promise<Item[]> {
  const dataset = ds.config.name;
  counts.found += batch.length;
  const held: EntryInput[] = [];
  const todo: Item[] = [];
  const refused: EntryInput[] = [];
  for (const item of batch) {
    const problem = keyProblem(ds.config, item.key);
    if (problem) {
      // Its subject (and so its holds) cannot be told from an odd spelling: never guessed, reported.
      const reason = `NOT_CANONICAL: the key ${problem}; left alone`;
      countFailure(ledger, counts, item, reason);
      refused.push({ action: "failed", dataset, key: item.key, subject: item.subject, reason, runId: ctx.runId });
      continue;
    }
    const sh = item.subject ? ledger.subjectHash(item.subject) : undefined;
    const hold = holdFor(ctx.holds, dataset, sh);
    if (hold) {
      counts.held++;
      counts.holdsHit.set(hold.id, hold.reason);
      if (!ctx.quietHolds)
        held.push({
          action: "held",
          dataset,
          key: item.key,
          subjectHash: sh,
          reason: `hold ${hold.id}: ${hold.reason}`,
          runId: ctx.runId,
        });
    } else todo.push(item);
  }
  if (held.length + refused.length > 0) await ledger.append([...refused, ...held]);
  return todo;
}

/**
 * What a dataset's scan could not look at (an unreadable directory may hide
 * items): each is a failure of the run, counted and on the ledger.
 *
 * @example
 * for await (const batch of ds.scanExpired(now, ds.config.batchSize)) await deleteBatch(deps, ctx, ds, batch, counts);
 * await recordScanProblems(ledger, ctx, ds, counts); // after the scan, so every skipped directory is known
 */
export async function recordScanProblems(
  ledger: Ledger,
  ctx: BatchContext,
  ds: DatasetDriver,
  counts: BatchCounts,
  subjectHash?: string,
): Promise<void> {
  const problems = ds.scanProblems?.() ?? [];
  if (problems.length === 0) return;
  for (const p of problems) countFailure(ledger, counts, p, p.reason);
  await ledger.append(
    problems.map((p) => ({
      action: "failed" as const,
      dataset: ds.config.name,
      key: p.key,
      subjectHash,
      reason: p.reason,
      runId: ctx.runId,
    })),
  );
}

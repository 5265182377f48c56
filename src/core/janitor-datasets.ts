import type { LetheConfig } from "../config/types.js";
import { emptyCounts } from "../executor/delete-batch.js";
import type { Executor } from "../executor/executor.js";
import { itemHold } from "../executor/hold-rule.js";
import { overdueStatus } from "../executor/overdue.js";
import { safetyVerdict } from "../executor/safety.js";
import type { ActiveHolds } from "./holds.js";
import type { DatasetDriver, Item } from "./types.js";

/**
 * The janitor's dataset pass: items past expiry + grace that still exist are
 * what the primary path (scheduled retention) failed to delete. Held items
 * are not findings: a hold keeps them on purpose (they are counted as held).
 *
 * @example
 * const check = await checkDataset(ds, holds, executor, new Date(), 3600, 1000);
 */
export interface ItemFinding {
  dataset: string;
  item: Item;
  /** Seconds past expiry. */
  age?: number;
  /** Why the item counts as overdue when not by a time (a Redis key without a TTL). */
  reason?: string;
}

export interface DatasetCheck {
  name: string;
  /** Items past expiry + grace, holds excluded. */
  overdue: number;
  /** The first of them, up to the listing cap. */
  listed: ItemFinding[];
  /** Retention lag: age (s) of the oldest item past its expiry that no hold keeps, 0 when none. */
  lagSeconds: number;
  /** Items past expiry + grace that an active hold keeps (not findings). */
  heldBack: number;
  deleted?: number;
  /** `action: expire` datasets: lifetimes shortened by `--apply`. */
  ttlSet?: number;
  held?: number;
  failed?: number;
  refused?: string;
}

export async function checkDataset(
  ds: DatasetDriver,
  holds: ActiveHolds,
  executor: Executor,
  now: Date,
  graceSeconds: number,
  cap: number,
): Promise<DatasetCheck> {
  const hash = (s: string) => executor.subjectHash(s);
  const cutoff = new Date(now.getTime() - graceSeconds * 1000);
  const due = await overdueStatus(ds, holds, hash, cutoff, now);
  const listed: ItemFinding[] = [];
  if (due.overdue > 0) {
    const nowS = now.getTime() / 1000;
    outer: for await (const batch of ds.scanExpired(cutoff, Math.min(ds.config.batchSize, cap))) {
      for (const item of batch) {
        if (itemHold(holds, ds.config.name, item, hash)) continue;
        listed.push({
          dataset: ds.config.name,
          item,
          ...(item.reason ? { reason: item.reason } : {}),
          ...(item.expiresAt !== undefined ? { age: Math.max(0, Math.round(nowS - item.expiresAt)) } : {}),
        });
        if (listed.length >= cap) break outer;
      }
    }
  }
  // Lag counts from expiry itself (no grace): a small lag inside the grace is normal, not a finding.
  const { lagSeconds } = await overdueStatus(ds, holds, hash, now);
  // The count and the listing are two reads: never claim more unlisted items than the listing could have shown.
  const overdue = listed.length < cap ? listed.length : Math.max(due.overdue, listed.length);
  return { name: ds.config.name, overdue, listed, lagSeconds, heldBack: due.held };
}

export interface FixContext {
  config: LetheConfig;
  executor: Executor;
  holds: ActiveHolds;
  runId: string;
  force: boolean;
}

/**
 * Deletes a dataset's overdue items through the single deletion path, with
 * the same safety limit as `lethe apply` (a janitor must not become a way
 * around it). Expiry is re-checked against the grace cutoff inside the delete.
 * Held items it meets are counted but not recorded again (`quietHolds`).
 */
export async function fixDataset(
  ctx: FixContext,
  ds: DatasetDriver,
  check: DatasetCheck,
  now: Date,
  graceSeconds: number,
): Promise<void> {
  if (check.overdue === 0) return;
  const total = await ds.count();
  const verdict = ctx.force ? undefined : safetyVerdict(ctx.config, ds.config, check.overdue, total);
  if (verdict) {
    check.refused = `${check.overdue} of ${total} items exceed safety.maxFraction ${verdict.limit.maxFraction}; review with lethe plan, then lethe janitor --apply --force`;
    return;
  }
  const cutoff = new Date(now.getTime() - graceSeconds * 1000);
  const counts = emptyCounts();
  const batchCtx = { holds: ctx.holds, runId: ctx.runId, reason: "janitor", expiredAt: cutoff, quietHolds: true };
  for await (const batch of ds.scanExpired(cutoff, ds.config.batchSize))
    await ctx.executor.deleteBatch(batchCtx, ds, batch, counts);
  check.deleted = counts.deleted;
  if (counts.ttlSet > 0) check.ttlSet = counts.ttlSet;
  check.held = counts.held;
  check.failed = counts.failed;
}

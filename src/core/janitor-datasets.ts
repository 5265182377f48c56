import type { LetheConfig } from "../config/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { StateHandle } from "../state/open-state.js";
import { deleteBatch, emptyCounts } from "./delete-batch.js";
import type { ActiveHolds } from "./holds.js";
import { heldCount } from "./planner.js";
import type { DatasetDriver, Item } from "./types.js";

/**
 * The janitor's dataset pass: items past expiry + grace that still exist are
 * what the primary path (scheduled retention) failed to delete. Held items
 * are not findings: a hold keeps them on purpose.
 *
 * @example
 * const check = await checkDataset(ds, holds, ledger, new Date(), 3600, 1000);
 */
export interface ItemFinding {
  dataset: string;
  item: Item;
  /** Seconds past expiry. */
  age?: number;
}

export interface DatasetCheck {
  name: string;
  /** Items past expiry + grace, holds excluded. */
  overdue: number;
  /** The first of them, up to the listing cap. */
  listed: ItemFinding[];
  /** Retention lag: age (s) of the oldest item past its expiry, 0 when none. */
  lagSeconds: number;
  deleted?: number;
  held?: number;
  failed?: number;
  refused?: string;
}

function isHeld(ds: DatasetDriver, item: Item, holds: ActiveHolds, ledger: Ledger): boolean {
  if (holds.datasets.has(ds.config.name)) return true;
  return item.subject ? holds.subjects.has(ledger.subjectHash(item.subject)) : false;
}

export async function checkDataset(
  ds: DatasetDriver,
  holds: ActiveHolds,
  ledger: Ledger,
  now: Date,
  graceSeconds: number,
  cap: number,
): Promise<DatasetCheck> {
  const cutoff = new Date(now.getTime() - graceSeconds * 1000);
  const summary = await ds.summarizeExpired(cutoff);
  const overdue = summary.expired - heldCount(ds, summary, holds, ledger);
  const listed: ItemFinding[] = [];
  if (overdue > 0) {
    const nowS = now.getTime() / 1000;
    outer: for await (const batch of ds.scanExpired(cutoff, Math.min(ds.config.batchSize, cap))) {
      for (const item of batch) {
        if (isHeld(ds, item, holds, ledger)) continue;
        listed.push({
          dataset: ds.config.name,
          item,
          ...(item.expiresAt !== undefined ? { age: Math.max(0, Math.round(nowS - item.expiresAt)) } : {}),
        });
        if (listed.length >= cap) break outer;
      }
    }
  }
  const oldest = await ds.oldestExpiry(now);
  const lagSeconds = oldest === undefined ? 0 : Math.max(0, Math.round(now.getTime() / 1000 - oldest));
  return { name: ds.config.name, overdue: Math.max(0, overdue), listed, lagSeconds };
}

export interface FixContext {
  config: LetheConfig;
  state: StateHandle;
  ledger: Ledger;
  holds: ActiveHolds;
  runId: string;
  files: Parameters<typeof deleteBatch>[0]["files"];
  force: boolean;
}

/**
 * Deletes a dataset's overdue items through the single deletion path, with
 * the same safety limit as `lethe apply` (a janitor must not become a way
 * around it). Expiry is re-checked against the grace cutoff inside the delete.
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
  if (!ctx.force && total > 0 && check.overdue / total > ctx.config.safety.maxFraction) {
    check.refused = `${check.overdue} of ${total} items exceed safety.maxFraction ${ctx.config.safety.maxFraction}; review with lethe plan, then lethe janitor --apply --force`;
    return;
  }
  const cutoff = new Date(now.getTime() - graceSeconds * 1000);
  const counts = emptyCounts();
  const batchCtx = {
    state: ctx.state,
    ledger: ctx.ledger,
    holds: ctx.holds,
    runId: ctx.runId,
    reason: "janitor",
    expiredAt: cutoff,
    files: ctx.files,
  };
  for await (const batch of ds.scanExpired(cutoff, ds.config.batchSize)) await deleteBatch(batchCtx, ds, batch, counts);
  check.deleted = counts.deleted;
  check.held = counts.held;
  check.failed = counts.failed;
}

import type { LetheConfig } from "../config/types.js";
import { type BatchCounts, emptyCounts } from "../executor/delete-batch.js";
import type { Executor } from "../executor/executor.js";
import { heldCount, needsBySubject } from "../executor/hold-rule.js";
import { type SafetyVerdict, safetyLimit, safetyVerdict } from "../executor/safety.js";
import type { StateHandle } from "../state/open-state.js";
import type { DataMap, UnavailableDataset } from "./data-map.js";
import { type ErrorCode, LetheError } from "./errors.js";
import type { Holds } from "./holds.js";
import { canonicalKey } from "./keys/canonical-key.js";
import { type Plan, planContentHash } from "./planner.js";
import type { DatasetDriver, Item } from "./types.js";

export interface ApplyDataset {
  name: string;
  expired: number;
  deleted: number;
  held: number;
  failed: number;
  filesRemoved: number;
  /** `action: expire` datasets (Redis): lifetimes set or lowered to the retention instead of deleted. */
  ttlSet?: number;
  /** Whole partitions dropped (their rows are counted in `deleted`). */
  partitionsDropped?: number;
  /**
   * Expired partitions lethe meant to drop but could not (a lock the application held past the lock timeout):
   * rows of a partition still attached were deleted row by row instead; a detached one is dropped by the next run.
   */
  partitionsSkipped?: { partition: string; reason: string }[];
  /** `code`: one of lethe's error codes when the failure has one (OUTCOME_UNKNOWN: the reply to a delete was lost). */
  failures: { key: string | number; reason: string; code?: ErrorCode }[];
}

export interface ApplyResult {
  runId: string;
  datasets: ApplyDataset[];
  /** Set when `shouldStop` ended the run early (after a fully recorded batch). */
  interrupted?: boolean;
  /** Datasets not run because a store they need is down (the run is then `partial`). */
  unavailable?: UnavailableDataset[];
}

export interface ApplyOptions {
  dataset?: string;
  plan?: Plan;
  force?: boolean;
  now?: Date;
  /** `done` counts every handled item, `held` the ones a hold kept (`expected` leaves those out). */
  onProgress?: (p: { dataset: string; done: number; expected: number; held: number }) => void;
  /** Called once the run exists (its `run_started` is on the ledger), before the first delete. */
  onRunStarted?: (runId: string) => void | Promise<void>;
  /** Asked between batches: true ends the run after the current batch, recorded as interrupted (shutdown, lost lease). */
  shouldStop?: () => boolean;
}

export interface RetentionDeps {
  config: LetheConfig;
  state: StateHandle;
  executor: Executor;
  holds: Holds;
  map: DataMap;
}

function checkPlan(deps: RetentionDeps, plan: Plan): void {
  if (plan.contentHash !== planContentHash(plan))
    throw new LetheError(
      "STALE_PLAN",
      "the plan file was modified after it was made (content hash mismatch); make a new plan",
    );
  if (plan.policyHash !== deps.config.policyHash)
    throw new LetheError("STALE_PLAN", "the configuration changed since this plan was made; review a new plan");
  for (const d of plan.datasets) {
    const config = deps.map.known(d.name);
    deps.map.select(d.name);
    // A plan file is input like any other: every key is checked before the first delete.
    if (d.items) d.items = d.items.map((k, i) => canonicalKey(config, k, `plan: datasets.${d.name}.items.${i}`));
  }
}

/**
 * Deletes expired items of every (or one) dataset, batch by batch, each
 * outcome on the ledger. With a reviewed plan, only that plan's items that
 * are still expired are deleted, never more. Everything is validated, and the
 * safety limit checked for every dataset, before the first delete.
 *
 * @example
 * const result = await applyRetention(deps, { force: false });
 */
export async function applyRetention(deps: RetentionDeps, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { config, executor, map } = deps;
  const now = opts.now ?? new Date();
  if (opts.plan) checkPlan(deps, opts.plan);
  await executor.reconcile();
  const holds = await deps.holds.active(now);
  const planned = opts.plan ? new Map(opts.plan.datasets.map((d) => [d.name, d.items ?? []])) : undefined;
  if (planned && opts.dataset !== undefined && !planned.has(opts.dataset))
    throw new LetheError("USAGE", `--dataset ${opts.dataset}: the plan has no such dataset`);
  // With both, only that dataset's planned items go.
  const targets = planned
    ? [...planned.keys()]
        .filter((n) => opts.dataset === undefined || n === opts.dataset)
        .map((n) => map.select(n)[0] as DatasetDriver)
    : map.select(opts.dataset);
  // A run over every dataset does the reachable ones and reports the others, naming their store.
  const unavailable = planned || opts.dataset !== undefined ? [] : map.unavailable();

  const expected = new Map<string, number>();
  const over: SafetyVerdict[] = [];
  for (const ds of targets) {
    // A limit of 100 % cannot refuse anything: no counting pass over the whole table (progress then has no total).
    if (safetyLimit(config, ds.config).maxFraction >= 1) continue;
    const total = await ds.count();
    let n: number;
    // A plan partly applied already (another `--dataset`): only its items still present count.
    if (planned) n = await stillPresent(ds, planned.get(ds.config.name) ?? []);
    else {
      const s = await ds.summarizeExpired(now, { bySubject: needsBySubject(holds) });
      n = s.expired - heldCount(ds, s, holds, (x) => executor.subjectHash(x));
    }
    expected.set(ds.config.name, n);
    const verdict = safetyVerdict(config, ds.config, n, total);
    if (verdict) over.push(verdict);
  }
  if (over.length > 0 && !opts.force)
    throw new LetheError(
      "SAFETY_LIMIT",
      `refused: the run would delete more than the safety limit (safety.maxFraction, or the dataset's own) of a dataset:\n  ${over.map((v) => v.reason).join("\n  ")}\nReview with "lethe plan", then rerun with --force if intended.`,
      { datasets: over.map((v) => v.reason) },
    );

  const start = {
    kind: "retention" as const,
    reason: opts.plan ? `plan ${opts.plan.planId}` : "retention",
    data: {
      datasets: targets.map((d) => d.config.name),
      at: now.toISOString(),
      ...(unavailable.length > 0 ? { unavailable: unavailable.map(({ dataset, store }) => ({ dataset, store })) } : {}),
    },
    onRunStarted: opts.onRunStarted,
  };
  return executor.withRun(start, async (runId) => {
    const results: ApplyDataset[] = [];
    let interrupted = false;
    for (const ds of targets) {
      if (interrupted) break;
      const counts = emptyCounts();
      const ctx = { holds, runId, reason: "retention", expiredAt: now };
      const progress = () =>
        opts.onProgress?.({
          dataset: ds.config.name,
          done: counts.found,
          expected: expected.get(ds.config.name) ?? 0,
          held: counts.held,
        });
      // A reviewed plan lists rows: only those go, so partitions are dropped only in plan-less runs.
      const drops = planned ? undefined : await executor.dropExpiredPartitions(ctx, ds, now, counts, opts.shouldStop);
      progress();
      for await (const batch of source(ds, now, planned?.get(ds.config.name))) {
        await executor.deleteBatch(ctx, ds, batch, counts);
        progress();
        if (opts.shouldStop?.()) {
          interrupted = true;
          break;
        }
      }
      await executor.recordScanProblems(ctx, ds, counts);
      results.push({
        ...toResult(ds.config.name, counts),
        ...(drops?.dropped ? { partitionsDropped: drops.dropped } : {}),
        ...(drops?.skipped.length ? { partitionsSkipped: drops.skipped } : {}),
      });
    }
    for (const store of map.stores.values()) await store.scrub?.();
    const failed = results.reduce((n, r) => n + r.failed, 0);
    const summary = results.map(({ failures: _f, ...r }) => r);
    const down = unavailable.length > 0 ? `; ${unavailable.length} dataset(s) unavailable (store down)` : "";
    const outcome = interrupted
      ? "interrupted: stopped after the current batch"
      : failed > 0 || down
        ? `${failed} failed${down}`
        : "ok";
    return {
      result: {
        runId,
        datasets: results,
        ...(interrupted ? { interrupted } : {}),
        ...(unavailable.length > 0 ? { unavailable } : {}),
      },
      end: {
        status: interrupted ? "interrupted" : failed > 0 || down ? "partial" : "ok",
        reason: outcome,
        data: { datasets: summary },
        summary,
      },
    };
  });
}

/** How many of a plan's keys still exist (asked in batches). */
async function stillPresent(ds: DatasetDriver, keys: (string | number)[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += ds.config.batchSize)
    n += (await ds.existing(keys.slice(i, i + ds.config.batchSize))).size;
  return n;
}

async function* source(
  ds: DatasetDriver,
  now: Date,
  planItems: (string | number)[] | undefined,
): AsyncIterable<Item[]> {
  const n = ds.config.batchSize;
  if (!planItems) {
    yield* ds.scanExpired(now, n);
    return;
  }
  for (let i = 0; i < planItems.length; i += n) {
    const batch = await ds.fetchExpired(planItems.slice(i, i + n), now);
    if (batch.length > 0) yield batch;
  }
}

function toResult(name: string, c: BatchCounts): ApplyDataset {
  return {
    name,
    expired: c.found,
    deleted: c.deleted,
    held: c.held,
    failed: c.failed,
    filesRemoved: c.filesRemoved,
    ...(c.ttlSet > 0 ? { ttlSet: c.ttlSet } : {}),
    failures: c.failures,
  };
}

import { createHash, randomUUID } from "node:crypto";
import type { LetheConfig } from "../config/types.js";
import type { Executor } from "../executor/executor.js";
import { heldCount, itemHold, needsBySubject } from "../executor/hold-rule.js";
import { safetyVerdict } from "../executor/safety.js";
import type { DataMap } from "./data-map.js";
import type { ActiveHolds } from "./holds.js";

export interface PlanDataset {
  name: string;
  store: string;
  total: number;
  expired: number;
  held: number;
  bytes?: number;
  /** `expire` when a run shortens lifetimes (Redis TTLs) instead of deleting. */
  action?: "expire";
  /** Why items count as expired, where a driver tells (Redis: `no TTL`, `TTL longer than the retention`). */
  reasons?: Record<string, number>;
  /** The exact keys a run would delete (only in plan files). */
  items?: (string | number)[];
  /** Set when `lethe apply` would refuse this dataset without --force: why (the limit in force, its own or the global one). */
  refused?: string;
}

export interface Plan {
  planId: string;
  at: string;
  policyHash: string;
  datasets: PlanDataset[];
  /** SHA-256 of everything above; a plan file whose content changed is refused. */
  contentHash?: string;
}

/**
 * A plan as shown to people and clients: the summaries without item keys
 * (keys may carry subject ids; only a plan file written with `--out` holds them).
 *
 * @example
 * planSummary(await lethe.plan()).datasets[0]; // { name, total, expired, held, … }
 */
export function planSummary(plan: Plan) {
  return {
    planId: plan.planId,
    at: plan.at,
    policyHash: plan.policyHash,
    contentHash: plan.contentHash,
    datasets: plan.datasets.map(({ items: _items, ...d }) => d),
  };
}

export function planContentHash(p: Plan): string {
  const { contentHash: _ignored, ...body } = p;
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

export interface PlanOptions {
  dataset?: string;
  now?: Date;
  /** List every item's key (for `plan --out`). */
  withItems?: boolean;
  /** Record the plan's summary entry on the ledger (default true); `GET /v1/plan` passes false: a GET changes nothing. */
  record?: boolean;
}

/**
 * A dry run: what a run would delete now, per dataset. Records one summary
 * entry (with the plan's hash) on the ledger, not one per item, unless
 * `record: false`.
 *
 * @example
 * const plan = await makePlan(config, map, executor, holds, { withItems: true });
 */
export async function makePlan(
  config: LetheConfig,
  map: DataMap,
  executor: Executor,
  holds: ActiveHolds,
  opts: PlanOptions,
): Promise<Plan> {
  const hash = (s: string) => executor.subjectHash(s);
  const now = opts.now ?? new Date();
  const datasets: PlanDataset[] = [];
  for (const ds of map.select(opts.dataset)) {
    const [total, summary] = await Promise.all([
      ds.count(),
      ds.summarizeExpired(now, { bySubject: needsBySubject(holds) }),
    ]);
    const held = heldCount(ds, summary, holds, hash);
    const entry: PlanDataset = {
      name: ds.config.name,
      store: ds.config.store,
      total,
      expired: summary.expired,
      held,
    };
    const verdict = safetyVerdict(config, ds.config, summary.expired - held, total);
    if (verdict) entry.refused = verdict.reason;
    if (summary.bytes !== undefined) entry.bytes = summary.bytes;
    if (ds.config.action === "expire") entry.action = "expire";
    if (summary.reasons && Object.keys(summary.reasons).length > 0) entry.reasons = summary.reasons;
    if (opts.withItems) {
      entry.items = [];
      for await (const batch of ds.scanExpired(now, ds.config.batchSize)) {
        for (const item of batch) if (!itemHold(holds, ds.config.name, item, hash)) entry.items.push(item.key);
      }
    }
    datasets.push(entry);
  }
  const plan: Plan = { planId: `plan_${randomUUID()}`, at: now.toISOString(), policyHash: config.policyHash, datasets };
  plan.contentHash = planContentHash(plan);
  if (opts.record === false) return plan;
  await executor.record([
    {
      action: "plan",
      reason: "dry run",
      data: {
        planId: plan.planId,
        hash: plan.contentHash,
        datasets: datasets.map((d) => ({
          name: d.name,
          expired: d.expired,
          held: d.held,
          ...(d.refused ? { refused: true } : {}),
        })),
      },
    },
  ]);
  return plan;
}

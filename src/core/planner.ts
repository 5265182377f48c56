import { createHash, randomUUID } from "node:crypto";
import type { Ledger } from "../ledger/ledger.js";
import type { DataMap } from "./data-map.js";
import type { ActiveHolds } from "./holds.js";
import type { DatasetDriver, ExpiredSummary } from "./types.js";

export interface PlanDataset {
  name: string;
  store: string;
  total: number;
  expired: number;
  held: number;
  bytes?: number;
  /** The exact keys a run would delete (only in plan files). */
  items?: (string | number)[];
}

export interface Plan {
  planId: string;
  at: string;
  policyHash: string;
  datasets: PlanDataset[];
  /** SHA-256 of everything above; a plan file whose content changed is refused. */
  contentHash?: string;
}

export function planContentHash(p: Plan): string {
  const { contentHash: _ignored, ...body } = p;
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

/** How many of a summary's expired items fall under an active hold. */
export function heldCount(ds: DatasetDriver, s: ExpiredSummary, holds: ActiveHolds, ledger: Ledger): number {
  if (holds.datasets.has(ds.config.name)) return s.expired;
  if (!s.bySubject || holds.subjects.size === 0) return 0;
  let n = 0;
  for (const [subject, count] of s.bySubject) if (holds.subjects.has(ledger.subjectHash(subject))) n += count;
  return n;
}

export interface PlanOptions {
  dataset?: string;
  now?: Date;
  /** List every item's key (for `plan --out`). */
  withItems?: boolean;
}

/**
 * A dry run: what a run would delete now, per dataset. Records one summary
 * entry (with the plan's hash) on the ledger, not one per item.
 *
 * @example
 * const plan = await makePlan(map, ledger, holds, policyHash, { withItems: true });
 */
export async function makePlan(
  map: DataMap,
  ledger: Ledger,
  holds: ActiveHolds,
  policyHash: string,
  opts: PlanOptions,
): Promise<Plan> {
  const now = opts.now ?? new Date();
  const datasets: PlanDataset[] = [];
  for (const ds of map.select(opts.dataset)) {
    const [total, summary] = await Promise.all([
      ds.count(),
      ds.summarizeExpired(now, { bySubject: holds.subjects.size > 0 }),
    ]);
    const entry: PlanDataset = {
      name: ds.config.name,
      store: ds.config.store,
      total,
      expired: summary.expired,
      held: heldCount(ds, summary, holds, ledger),
    };
    if (summary.bytes !== undefined) entry.bytes = summary.bytes;
    if (opts.withItems) {
      entry.items = [];
      for await (const batch of ds.scanExpired(now, ds.config.batchSize)) {
        for (const item of batch) {
          const sh = item.subject ? ledger.subjectHash(item.subject) : undefined;
          if (!holds.datasets.has(ds.config.name) && !(sh && holds.subjects.has(sh))) entry.items.push(item.key);
        }
      }
    }
    datasets.push(entry);
  }
  const plan: Plan = { planId: `plan_${randomUUID()}`, at: now.toISOString(), policyHash, datasets };
  plan.contentHash = planContentHash(plan);
  await ledger.append([
    {
      action: "plan",
      reason: "dry run",
      data: {
        planId: plan.planId,
        hash: plan.contentHash,
        datasets: datasets.map((d) => ({ name: d.name, expired: d.expired, held: d.held })),
      },
    },
  ]);
  return plan;
}

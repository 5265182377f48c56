import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
} from "@aws-sdk/client-s3";
import type { LetheConfig } from "../../config/types.js";
import type { Holds } from "../../core/holds.js";
import { s3Client } from "./client.js";
import { type LifecyclePlan, mergeRules, type PlannedRule, planLifecycle, toS3Rules } from "./lifecycle-rules.js";
import { errorName, isUnsupported, safeReason } from "./s3-errors.js";

export type BucketStatus = "written" | "unchanged" | "dry-run" | "unsupported" | "failed";

export interface BucketSyncResult {
  store: string;
  bucket: string;
  status: BucketStatus;
  reason?: string;
  rules: PlannedRule[];
}

export interface LifecycleSyncResult {
  dryRun: boolean;
  buckets: BucketSyncResult[];
  skipped: LifecyclePlan["skipped"];
}

/**
 * Writes the planned lethe rules into each bucket's lifecycle configuration,
 * keeping every rule lethe did not write. A server without lifecycle support
 * (s3rver) is reported as `unsupported`, never silently passed.
 *
 * @example
 * const r = await syncLifecycle(planLifecycle(config, holds), { dryRun: true });
 */
export async function syncLifecycle(plan: LifecyclePlan, opts: { dryRun: boolean }): Promise<LifecycleSyncResult> {
  const buckets: BucketSyncResult[] = [];
  for (const b of plan.buckets) {
    const base = { store: b.store.name, bucket: b.bucket, rules: b.rules };
    if (opts.dryRun) {
      buckets.push({ ...base, status: "dry-run" });
      continue;
    }
    const client = s3Client(b.store);
    try {
      buckets.push({ ...base, ...(await syncBucket(client, b.bucket, toS3Rules(b.rules))) });
    } finally {
      client.destroy();
    }
  }
  return { dryRun: opts.dryRun, buckets, skipped: plan.skipped };
}

async function syncBucket(
  client: ReturnType<typeof s3Client>,
  bucket: string,
  ours: LifecycleRule[],
): Promise<{ status: BucketStatus; reason?: string }> {
  let existing: LifecycleRule[];
  try {
    existing = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (err) {
    if (errorName(err) === "NoSuchLifecycleConfiguration") existing = [];
    else return failure(err);
  }
  const merged = mergeRules(existing, ours);
  if (JSON.stringify(merged) === JSON.stringify(existing)) return { status: "unchanged" };
  try {
    if (merged.length === 0) await client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    else
      await client.send(
        new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: merged } }),
      );
    return { status: "written" };
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): { status: BucketStatus; reason: string } {
  return isUnsupported(err)
    ? { status: "unsupported", reason: `the server does not implement bucket lifecycle (${safeReason(err)})` }
    : { status: "failed", reason: safeReason(err) };
}

/**
 * Plans from the config and the active holds, then syncs (the library entry
 * behind `lethe lifecycle sync`).
 *
 * @example
 * const r = await lifecycleSync(lethe.config, lethe.holds, { dryRun: true });
 */
export async function lifecycleSync(
  config: LetheConfig,
  holds: Holds,
  opts: { dryRun?: boolean } = {},
): Promise<LifecycleSyncResult> {
  const active = await holds.active();
  const plan = planLifecycle(config, { datasets: new Set(active.datasets.keys()), subjects: active.subjects.size > 0 });
  return syncLifecycle(plan, { dryRun: opts.dryRun === true });
}

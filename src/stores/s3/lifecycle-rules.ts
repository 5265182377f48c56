import type { LifecycleRule } from "@aws-sdk/client-s3";
import type { DatasetConfig, LetheConfig, S3StoreConfig } from "../../config/types.js";

/**
 * Bucket lifecycle rules that mirror each s3 dataset's fixed retention as a
 * storage-level backstop: if lethe stops running, S3 still expires the data.
 * A rule never expires earlier than lethe would (days rounded UP), and only
 * datasets that are exactly a key prefix get one: lifecycle filters cannot
 * express globs, and a broader rule would delete objects lethe never owned.
 */
export const RULE_ID_PREFIX = "lethe-";

export interface PlannedRule {
  id: string;
  dataset: string;
  /** Full key prefix the rule filters on (store prefix + dataset prefix). */
  prefix: string;
  /** Expiration after this many days (ceil of the retention). */
  days: number;
  /** Versioned stores: noncurrent versions expire too. */
  noncurrentDays?: number;
}

export interface BucketRules {
  /** The first store naming this bucket: its client settings are used. */
  store: S3StoreConfig;
  bucket: string;
  rules: PlannedRule[];
}

export interface LifecyclePlan {
  buckets: BucketRules[];
  skipped: { dataset: string; reason: string }[];
}

export interface HoldSummary {
  datasets: Set<string>;
  /** Any active subject hold: its objects cannot be told apart by prefix. */
  subjects: boolean;
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** The key prefix a dataset's globs amount to, or undefined when globs are not a plain prefix. */
export function datasetPrefix(ds: Pick<DatasetConfig, "include" | "exclude">): string | undefined {
  if (ds.exclude.length > 0) return undefined;
  if (ds.include.length === 0) return "";
  if (ds.include.length !== 1) return undefined;
  const glob = ds.include[0] as string;
  if (glob === "**") return "";
  if (!glob.endsWith("/**")) return undefined;
  const literal = glob.slice(0, -2);
  return GLOB_CHARS.test(literal) ? undefined : literal;
}

/**
 * The rules lethe would write, per bucket, and the datasets it leaves out.
 *
 * @example
 * const plan = planLifecycle(config, { datasets: new Set(), subjects: false });
 */
export function planLifecycle(config: LetheConfig, holds: HoldSummary): LifecyclePlan {
  const byBucket = new Map<string, BucketRules>();
  const skipped: LifecyclePlan["skipped"] = [];
  for (const ds of config.datasets.values()) {
    const store = config.stores.get(ds.store);
    if (store?.kind !== "s3") continue;
    const skip = (reason: string) => skipped.push({ dataset: ds.name, reason });
    if (ds.retention.kind !== "duration") {
      skip("no fixed retention");
      continue;
    }
    const rel = datasetPrefix(ds);
    if (rel === undefined) {
      skip("include/exclude globs are not a plain key prefix; a lifecycle filter cannot express them");
      continue;
    }
    if (holds.datasets.has(ds.name)) {
      skip("an active legal hold on the dataset (lifecycle rules would ignore it)");
      continue;
    }
    if (holds.subjects && ds.subjectFromPath) {
      skip("active subject holds exist and lifecycle rules cannot spare a held subject's objects");
      continue;
    }
    const days = Math.max(1, Math.ceil(ds.retention.seconds / 86_400));
    const rule: PlannedRule = { id: `${RULE_ID_PREFIX}${ds.name}`, dataset: ds.name, prefix: store.prefix + rel, days };
    if (store.versions) rule.noncurrentDays = days;
    const id = `${store.endpoint ?? "aws"}|${store.bucket}`;
    const entry = byBucket.get(id) ?? { store, bucket: store.bucket, rules: [] };
    entry.rules.push(rule);
    byBucket.set(id, entry);
  }
  // Buckets of s3 stores without any rule still get their stale lethe rules removed.
  for (const store of config.stores.values()) {
    const id = store.kind === "s3" ? `${store.endpoint ?? "aws"}|${store.bucket}` : undefined;
    if (store.kind === "s3" && id && !byBucket.has(id)) byBucket.set(id, { store, bucket: store.bucket, rules: [] });
  }
  return { buckets: [...byBucket.values()], skipped };
}

/** SDK lifecycle rules for the planned ones. */
export function toS3Rules(rules: PlannedRule[]): LifecycleRule[] {
  return rules.map((r) => ({
    ID: r.id,
    Status: "Enabled",
    Filter: { Prefix: r.prefix },
    Expiration: { Days: r.days },
    ...(r.noncurrentDays !== undefined ? { NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrentDays } } : {}),
  }));
}

/** The bucket's own rules are kept; every earlier lethe rule is replaced by the current ones. */
export function mergeRules(existing: LifecycleRule[], ours: LifecycleRule[]): LifecycleRule[] {
  return [...existing.filter((r) => !(r.ID ?? "").startsWith(RULE_ID_PREFIX)), ...ours];
}

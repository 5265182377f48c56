/** The normalized configuration every other module reads: paths absolute, durations in seconds. */

import type { ServerLimits } from "./server-limits.js";

export type Retention =
  | { kind: "duration"; seconds: number }
  | { kind: "column"; column: string; unitSeconds: number }
  | { kind: "never" };

export interface SqlStoreConfig {
  name: string;
  kind: "sql";
  /** Resolved URL: `sqlite:/abs/path.db`, `postgres://…`, `mysql://…` or `mariadb://…`. */
  url: string;
  /** SQLite: milliseconds a statement or checkpoint waits for another connection's lock (default 10 s). */
  busyTimeoutMs?: number;
}
export interface FsStoreConfig {
  name: string;
  kind: "fs";
  /** Absolute root directory. */
  root: string;
}
export interface S3StoreConfig {
  name: string;
  kind: "s3";
  bucket: string;
  prefix: string;
  region: string | undefined;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Delete every version of an object in versioned buckets. */
  versions: boolean;
}
export interface RedisStoreConfig {
  name: string;
  kind: "redis";
  /** Resolved `redis://` or `rediss://` URL (may carry a password: never printed). */
  url: string;
}
export type StoreConfig = SqlStoreConfig | FsStoreConfig | S3StoreConfig | RedisStoreConfig;

export interface DatasetConfig {
  name: string;
  store: string;
  storeKind: StoreConfig["kind"];
  table: string | undefined;
  key: string | undefined;
  subject: string | undefined;
  createdAt: string | undefined;
  retention: Retention;
  files: { column: string; store: string } | undefined;
  include: string[];
  exclude: string[];
  /** redis: the key pattern (Redis glob syntax) with an optional `{subject}`. */
  pattern?: string | undefined;
  /** `expire` (redis only, its default): retention sets or lowers TTLs instead of deleting. */
  action: "delete" | "shred" | "expire";
  schedule: string;
  batchSize: number;
  subjectFromPath: string | undefined;
  derived: string[];
  /**
   * How dropped PostgreSQL partitions are recorded: one ledger entry per row
   * (`items`, the default) or one per partition (`partitions`).
   */
  ledger: "items" | "partitions";
  /**
   * Inference-complete events may delete this dataset's items (opt-in, never for `retention: never`).
   * Absent (not false) when off, so configs without it keep their policy hash.
   */
  events?: true;
  /** This dataset's own safety limit, key by key over the global one (absent: the global one). */
  safety?: { maxFraction?: number | undefined; minItems?: number | undefined } | undefined;
}

export interface LetheConfig {
  /** Absolute path of the file the config came from, or undefined for an object. */
  file: string | undefined;
  /** Directory relative paths are resolved against. */
  baseDir: string;
  /** `sqlite` state folder (absolute) or a `postgres://` URL. */
  state: { kind: "sqlite"; dir: string } | { kind: "postgres"; url: string; dir: string };
  schedule: string;
  misfireGraceSeconds: number;
  batchSize: number;
  /** `minItems`: the fraction applies only when a run would delete more than this many items (default 0). */
  safety: { maxFraction: number; minItems?: number | undefined };
  stores: Map<string, StoreConfig>;
  datasets: Map<string, DatasetConfig>;
  /** `scrub`: what an erasure does about erased bytes left in SQLite files; `scrubWindowMs`: how long its purge waits for others to share one search (docs/erasure.md). */
  erasure: { deadlineSeconds: number; scrub: "verify" | "vacuum" | "checkpoint"; scrubWindowMs: number };
  transient: { root: string | undefined; ttlSeconds: number };
  secrets: { masterKey: string | undefined; subjectKey: string | undefined };
  alerts: { webhook: string | undefined };
  /** Signed webhooks fed by the outbox (docs/notifications.md); `secret` is still a reference. */
  notifications: NotificationsConfig;
  redact: { patterns: { name: string; regex: string }[]; keys: string[] };
  janitor: { graceSeconds: number; schedule: string | undefined };
  /** Entries not covered by a signed checkpoint within this long are reported by `audit verify`. */
  ledger: { checkpointEverySeconds: number };
  /** `lethe serve`: listen address, body limit, the scheduler lease's time to live, how often a down store is retried. */
  server: {
    port: number;
    host: string;
    bodyLimit: number;
    leaseTtlSeconds: number;
    storeRetrySeconds: number;
    limits: ServerLimits;
  };
  /** Canonical JSON of the policy-relevant parts, hashed into plans. */
  policyHash: string;
}

export interface WebhookConfig {
  url: string;
  /** `env:`/`file:` reference, resolved when deliveries start. */
  secret: string;
  /** Subscribed events; undefined = all. */
  events: readonly string[] | undefined;
}

export interface NotificationsConfig {
  webhooks: WebhookConfig[];
  warnBeforeSeconds: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  maxAgeSeconds: number;
}

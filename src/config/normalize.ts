import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { parseDuration, parseDurationMs } from "./duration.js";
import { isRedisUrl, REDIS_URL_MSG } from "./redis-url.js";
import type { RawConfig, RawDataset } from "./schema.js";
import { resolveMaybeSecret } from "./secrets.js";
import { serverLimits } from "./server-limits.js";
import type { DatasetConfig, LetheConfig, NotificationsConfig, Retention, StoreConfig } from "./types.js";

const UNIT_SECONDS = { days: 86_400, hours: 3600, seconds: 1 } as const;

function seconds(d: string): number {
  // The schema already validated the string; a failure here is a bug.
  const s = parseDuration(d);
  if (s === undefined) throw new Error(`unvalidated duration ${d}`);
  return s;
}

function millis(d: string): number {
  const ms = parseDurationMs(d);
  if (ms === undefined) throw new Error(`unvalidated duration ${d}`);
  return ms;
}

function retention(r: RawDataset["retention"]): Retention {
  if (r === "never") return { kind: "never" };
  if (typeof r === "string") return { kind: "duration", seconds: seconds(r) };
  return { kind: "column", column: r.column, unitSeconds: UNIT_SECONDS[r.unit] };
}

/** Resolves `sqlite:relative.db` against the config folder; secret refs are resolved here too. */
function sqlUrl(url: string, baseDir: string, keyPath: string): string {
  const u = resolveMaybeSecret(url, baseDir, keyPath);
  const m = /^sqlite:(?:\/\/)?(.+)$/.exec(u);
  if (m) return `sqlite:${isAbsolute(m[1] as string) ? m[1] : resolve(baseDir, m[1] as string)}`;
  return u;
}

/**
 * An S3 endpoint, its reference resolved and checked as the schema checks a literal one (the SDK would
 * only say `env://S3E was not a valid URI`).
 *
 * @example
 * s3Endpoint("env:S3_ENDPOINT", "/srv", "stores.objects.endpoint"); // "https://s3.example.com"
 */
export function s3Endpoint(value: string, baseDir: string, keyPath: string): string {
  const u = resolveMaybeSecret(value, baseDir, keyPath);
  if (!/^https?:\/\//.test(u) || !URL.canParse(u))
    throw new ConfigError([`${keyPath}: ${value} does not hold an http:// or https:// URL`]);
  return u;
}

/** A Redis URL, its reference resolved and checked as the schema checks a literal one (never echoed: it may hold a password). */
function redisUrl(value: string, baseDir: string, keyPath: string): string {
  const u = resolveMaybeSecret(value, baseDir, keyPath);
  if (!isRedisUrl(u)) throw new ConfigError([`${keyPath}: ${value} does not hold a Redis URL (${REDIS_URL_MSG})`]);
  return u;
}

function notifications(n: RawConfig["notifications"]): NotificationsConfig {
  return {
    webhooks: (n?.webhooks ?? []).map((w) => ({ url: w.url, secret: w.secret, events: w.events })),
    warnBeforeSeconds: seconds(n?.warnBefore ?? "3d"),
    retryMinMs: millis(n?.retryMin ?? "5s"),
    retryMaxMs: millis(n?.retryMax ?? "1h"),
    maxAttempts: n?.maxAttempts ?? 20,
    maxAgeSeconds: seconds(n?.maxAge ?? "3d"),
  };
}

/**
 * Turns the validated raw config into {@link LetheConfig}: absolute paths,
 * seconds instead of duration strings, defaults filled in.
 *
 * @example
 * const config = normalizeConfig(raw, "/srv/lethe.yaml", "/srv");
 */
export function normalizeConfig(raw: RawConfig, file: string | undefined, baseDir: string): LetheConfig {
  const stores = new Map<string, StoreConfig>();
  for (const [name, s] of Object.entries(raw.stores)) {
    if (s.kind === "sql")
      stores.set(
        name,
        lazyUrl(
          { name, kind: "sql", ...(s.busyTimeout === undefined ? {} : { busyTimeoutMs: millis(s.busyTimeout) }) },
          () => sqlUrl(s.url, baseDir, `stores.${name}.url`),
        ),
      );
    else if (s.kind === "fs") stores.set(name, { name, kind: "fs", root: resolve(baseDir, s.root) });
    else if (s.kind === "redis")
      stores.set(
        name,
        lazyUrl({ name, kind: "redis" }, () => redisUrl(s.url, baseDir, `stores.${name}.url`)),
      );
    else {
      const s3: StoreConfig = {
        name,
        kind: "s3",
        bucket: s.bucket,
        prefix: s.prefix,
        region: s.region,
        endpoint: undefined,
        forcePathStyle: s.forcePathStyle,
        versions: s.versions,
      };
      const endpoint = s.endpoint;
      // Resolved when first read, like store URLs (lazyUrl).
      if (endpoint !== undefined) once(s3, "endpoint", () => s3Endpoint(endpoint, baseDir, `stores.${name}.endpoint`));
      stores.set(name, s3);
    }
  }
  const datasets = new Map<string, DatasetConfig>();
  for (const [name, d] of Object.entries(raw.datasets)) {
    const storeKind = stores.get(d.store)?.kind ?? "sql";
    datasets.set(name, {
      name,
      store: d.store,
      storeKind,
      table: d.table,
      key: d.key,
      subject: d.subject,
      createdAt: d.createdAt,
      retention: retention(d.retention),
      files: d.files,
      include: d.include ?? [],
      exclude: d.exclude ?? [],
      // Only when set: configs without a pattern keep their policy hash.
      ...(d.pattern !== undefined ? { pattern: d.pattern } : {}),
      action: d.action ?? (storeKind === "redis" ? "expire" : "delete"),
      schedule: d.schedule ?? raw.schedule,
      batchSize: d.batchSize ?? raw.batchSize,
      subjectFromPath: d.subjectFromPath,
      derived: d.derived ?? [],
      ledger: d.ledger ?? "items",
      // Only when set: an absent key keeps the policy hash of configs that do not use it.
      ...(d.safety ? { safety: d.safety } : {}),
      ...(d.events ? { events: true } : {}),
    });
  }
  // `state: env:LETHE_STATE` names a folder or a postgres:// URL (which may carry a password).
  const stateRef = resolveMaybeSecret(raw.state, baseDir, "state");
  const isPg = /^postgres(ql)?:\/\//.test(stateRef);
  const stateDir = resolve(baseDir, isPg ? ".lethe" : stateRef);
  const policy = { datasets: [...datasets.values()], stores: [...stores.values()], safety: raw.safety };
  const config: Omit<LetheConfig, "policyHash"> = {
    file,
    baseDir,
    state: isPg ? { kind: "postgres", url: stateRef, dir: stateDir } : { kind: "sqlite", dir: stateDir },
    schedule: raw.schedule,
    misfireGraceSeconds: seconds(raw.misfireGrace),
    batchSize: raw.batchSize,
    safety: raw.safety,
    stores,
    datasets,
    erasure: {
      deadlineSeconds: seconds(raw.erasure?.deadline ?? "30d"),
      scrub: raw.erasure?.scrub ?? "verify",
      scrubWindowMs: millis(raw.erasure?.scrubWindow ?? "10ms"),
    },
    transient: {
      root: raw.transient?.root ? resolve(baseDir, raw.transient.root) : undefined,
      ttlSeconds: millis(raw.transient?.ttl ?? "5m") / 1000,
    },
    secrets: { masterKey: raw.secrets?.masterKey, subjectKey: raw.secrets?.subjectKey },
    alerts: { webhook: raw.alerts?.webhook },
    notifications: notifications(raw.notifications),
    redact: { patterns: raw.redact?.patterns ?? [], keys: raw.redact?.keys ?? [] },
    janitor: { graceSeconds: seconds(raw.janitor?.grace ?? "1h"), schedule: raw.janitor?.schedule },
    ledger: { checkpointEverySeconds: seconds(raw.ledger?.checkpointEvery ?? "25h") },
    server: {
      port: raw.server?.port ?? 8787,
      host: raw.server?.host ?? "127.0.0.1",
      bodyLimit: raw.server?.bodyLimit ?? 1_048_576,
      leaseTtlSeconds: millis(raw.server?.leaseTtl ?? "15s") / 1000,
      storeRetrySeconds: millis(raw.server?.storeRetry ?? "15s") / 1000,
      limits: serverLimits(raw.server),
    },
  };
  // It hashes the stores' URLs, so it too is computed when first asked (plan, apply: commands that use stores).
  return once(config as LetheConfig, "policyHash", () =>
    createHash("sha256").update(JSON.stringify(policy)).digest("hex"),
  );
}

/**
 * A store's URL resolved when first read, not at load: an `env:` variable unset where lethe only reads its own
 * state (`audit log`, `audit export`) is no error there; a command that opens the store still fails with
 * CONFIG_INVALID naming `stores.<name>.url`.
 */
function lazyUrl<T extends object>(store: T, resolveUrl: () => string): T & { url: string } {
  return once(store as T & { url: string }, "url", resolveUrl as () => (T & { url: string })["url"]);
}

/** Defines `key` as an enumerable property computed on first read, then kept (a failure is thrown on every read). */
function once<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): T {
  let value: { v: T[K] } | undefined;
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: false,
    get: () => {
      value ??= { v: compute() };
      return value.v;
    },
  });
  return obj;
}

import { Cron } from "croner";
import { z } from "zod";
import { parseDurationMs } from "./duration.js";
import { notificationsSchema } from "./notifications-schema.js";
import { isRedisUrl, REDIS_URL_MSG } from "./redis-url.js";
import { durationMsSchema, durationSchema, secretRefSchema } from "./schema-parts.js";
import { serverLimitsShape } from "./server-limits.js";

export { durationMsSchema, durationSchema, secretRefSchema };

/**
 * The zod schema of `lethe.yaml` (DESIGN.md "Configuration"). Every object
 * is strict: an unknown key is an error, so a misspelt `retenion:` can never
 * silently mean "keep forever".
 */

const IDENT_MSG = "expected an SQL identifier (letters, digits and _, not starting with a digit)";
export const identifierSchema = z
  .string({ error: IDENT_MSG })
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: IDENT_MSG });

const TABLE_MSG = "expected a table name like logs or schema.logs";
const tableSchema = z
  .string({ error: TABLE_MSG })
  .regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: TABLE_MSG });

export const cronSchema = z.string().refine(
  (s) => {
    try {
      new Cron(s, { paused: true, timezone: "UTC" }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a cron expression like "0 2 * * *"' },
);

/** The shapes behind each {@link byType} schema, so `lethe schema` can describe them (src/config/json-schema.ts). */
export const typeAlternatives = new WeakMap<z.ZodType, z.ZodType[]>();

/** Dispatches on the JS type so each shape reports its own precise errors. */
function byType<S extends z.ZodType, O extends z.ZodType>(str: S, obj: O, message: string) {
  const schema = z.unknown().transform((v, ctx): z.output<S> | z.output<O> => {
    const schema = typeof v === "string" ? str : v !== null && typeof v === "object" ? obj : undefined;
    if (!schema) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    const r = schema.safeParse(v);
    if (r.success) return r.data as z.output<S> | z.output<O>;
    for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    return z.NEVER;
  });
  typeAlternatives.set(schema, [str, obj]);
  return schema;
}

const RETENTION_MSG = 'expected a duration like 30d, "never", or { column: NAME, unit: days|hours|seconds }';
const retentionSchema = byType(
  z.union([durationSchema, z.literal("never")], { error: RETENTION_MSG }),
  z.strictObject({
    column: identifierSchema,
    unit: z.enum(["days", "hours", "seconds"]).default("days"),
  }),
  RETENTION_MSG,
);

const sqlStore = z
  .strictObject({
    kind: z.literal("sql"),
    url: z
      .string()
      .min(1, { message: "expected sqlite:PATH, postgres://…, mysql://…, mariadb://… or a secret reference" }),
    /** SQLite only: how long a statement or checkpoint waits for a lock the application's connections hold. */
    busyTimeout: durationMsSchema.optional(),
  })
  .refine((s) => s.busyTimeout === undefined || !/^(postgres(ql)?|mysql|mariadb):\/\//.test(s.url), {
    message: "only a SQLite store (sqlite:PATH) has a busy timeout",
    path: ["busyTimeout"],
  });
const fsStore = z.strictObject({
  kind: z.literal("fs"),
  root: z.string().min(1),
  /** Accept a root such as `/etc` or a home directory (refused by default: see docs/security.md). */
  allowSystemRoot: z.boolean().default(false),
});
const S3_ENDPOINT_MSG = "expected an http:// or https:// URL or a reference to one (env:NAME, file:PATH)";
const s3Store = z.strictObject({
  kind: z.literal("s3"),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "expected an S3 bucket name" }),
  prefix: z.string().default(""),
  region: z.string().optional(),
  endpoint: z
    .string()
    .regex(/^(https?:\/\/.+|env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, { message: S3_ENDPOINT_MSG })
    .refine((v) => !/^https?:/.test(v) || URL.canParse(v), { message: S3_ENDPOINT_MSG })
    .optional(),
  forcePathStyle: z.boolean().default(false),
  versions: z.boolean().default(true),
});
const redisStore = z.strictObject({
  kind: z.literal("redis"),
  url: z
    .string()
    .regex(/^(rediss?:\/\/.+|env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, { message: REDIS_URL_MSG })
    .refine((v) => !/^rediss?:/.test(v) || isRedisUrl(v), { message: REDIS_URL_MSG }),
});
const storeSchema = z.discriminatedUnion("kind", [sqlStore, fsStore, s3Store, redisStore], {
  error: "expected a store with kind: sql | fs | s3 | redis",
});

/** `safety` of one dataset: each key falls back to the global `safety`. */
const datasetSafetySchema = z.strictObject({
  maxFraction: z.number().gt(0).lte(1).optional(),
  minItems: z.number().int().min(0).optional(),
});

const datasetSchema = z.strictObject({
  store: identifierSchema,
  description: z.string().optional(),
  table: tableSchema.optional(),
  key: identifierSchema.optional(),
  subject: identifierSchema.optional(),
  createdAt: identifierSchema.optional(),
  retention: retentionSchema,
  files: z.strictObject({ column: identifierSchema, store: identifierSchema }).optional(),
  include: z.array(z.string().min(1)).min(1).optional(),
  /** redis: the key pattern (Redis glob) of the dataset's keys, `{subject}` marking the subject id. */
  pattern: z.string().min(1).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  /** Default `delete`; `expire` for redis datasets (their TTLs are set or lowered instead). */
  action: z.enum(["delete", "shred", "expire"], { error: "expected delete, shred or expire" }).optional(),
  schedule: cronSchema.optional(),
  batchSize: z.number().int().min(1).max(100_000).optional(),
  subjectFromPath: z.string().optional(),
  derived: z.array(identifierSchema).optional(),
  ledger: z.enum(["items", "partitions"], { error: "expected items or partitions" }).optional(),
  safety: datasetSafetySchema.optional(),
  /** Event-driven deletion (inference-complete) is opt-in per dataset. */
  events: z.boolean().optional(),
});

/** `redact:`, also read on its own by `scan-logs --config` (which needs nothing else). */
export const redactSchema = z.strictObject({
  patterns: z.array(z.strictObject({ name: identifierSchema, regex: z.string().min(1) })).optional(),
  keys: z.array(z.string().min(1)).optional(),
});

export const configSchema = z.strictObject({
  version: z.literal(1, { error: "expected version: 1" }),
  state: z.string().min(1).default("./.lethe"),
  schedule: cronSchema.default("0 2 * * *"),
  misfireGrace: durationSchema.default("1h"),
  batchSize: z.number().int().min(1).max(100_000).default(5000),
  safety: z
    .strictObject({ maxFraction: z.number().gt(0).lte(1).default(0.9), minItems: z.number().int().min(0).optional() })
    .default({ maxFraction: 0.9 }),
  stores: z.record(identifierSchema, storeSchema),
  datasets: z.record(identifierSchema, datasetSchema),
  erasure: z
    .strictObject({
      deadline: durationSchema.default("30d"),
      scrub: z.enum(["verify", "vacuum", "checkpoint"]).default("verify"),
      scrubWindow: durationMsSchema
        .refine((d) => (parseDurationMs(d) ?? 0) <= 10_000, { message: "at most 10s: an erasure waits this long" })
        .default("10ms"),
    })
    .optional(),
  transient: z.strictObject({ root: z.string().optional(), ttl: durationMsSchema.default("5m") }).optional(),
  secrets: z.strictObject({ masterKey: secretRefSchema.optional(), subjectKey: secretRefSchema.optional() }).optional(),
  alerts: z.strictObject({ webhook: z.url() }).optional(),
  notifications: notificationsSchema.optional(),
  redact: redactSchema.optional(),
  janitor: z.strictObject({ grace: durationSchema.default("1h"), schedule: cronSchema.optional() }).optional(),
  /** `audit verify` reports entries that waited longer than `checkpointEvery` for a signed checkpoint. */
  ledger: z.strictObject({ checkpointEvery: durationSchema.default("25h") }).optional(),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).default(8787),
      host: z.string().default("127.0.0.1"),
      bodyLimit: z.number().int().min(1024).default(1_048_576),
      leaseTtl: durationMsSchema.default("15s"),
      /** How often `lethe serve` tries a store that could not be reached again (not in a hot loop: 100ms at least). */
      storeRetry: durationMsSchema
        .refine((v) => (parseDurationMs(v) ?? 0) >= 100, { message: "must be at least 100ms" })
        .default("15s"),
      ...serverLimitsShape,
    })
    .optional(),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawDataset = z.output<typeof datasetSchema>;
export type RawStore = z.output<typeof storeSchema>;

import { z } from "zod";
import { parseDurationMs } from "./duration.js";
import { durationMsSchema } from "./schema-parts.js";

/**
 * What `lethe serve` allows a client (docs/serve.md "Limits"): socket
 * timeouts, a connection cap, per-token request rates and the shape of JSON
 * bodies. Kept apart from the rest of `server:` so each limit lives once.
 */

const rateSchema = (perSecond: number, burst: number) =>
  z
    .strictObject({
      perSecond: z.number().positive().default(perSecond),
      burst: z.number().int().min(1).default(burst),
    })
    .default({ perSecond, burst });

/** Requests per second a token may make per class, refilled continuously, up to `burst` at once. */
export const DEFAULT_RATES = {
  events: { perSecond: 500, burst: 1000 },
  erasure: { perSecond: 10, burst: 50 },
  reads: { perSecond: 5, burst: 20 },
} as const;

/** Spread into the `server:` object of the config schema. */
export const serverLimitsShape = {
  headersTimeout: durationMsSchema.default("10s"),
  requestTimeout: durationMsSchema.default("30s"),
  keepAliveTimeout: durationMsSchema.default("5s"),
  idleTimeout: durationMsSchema.default("120s"),
  maxConnections: z.number().int().min(2).max(1_000_000).default(1000),
  maxJsonDepth: z.number().int().min(2).max(1000).default(32),
  maxJsonArray: z.number().int().min(1).default(10_000),
  /** Artifacts one inference-complete event may list. */
  maxEventArtifacts: z.number().int().min(1).max(10_000).default(1000),
  rateLimit: z
    .strictObject({
      events: rateSchema(DEFAULT_RATES.events.perSecond, DEFAULT_RATES.events.burst),
      erasure: rateSchema(DEFAULT_RATES.erasure.perSecond, DEFAULT_RATES.erasure.burst),
      reads: rateSchema(DEFAULT_RATES.reads.perSecond, DEFAULT_RATES.reads.burst),
    })
    .default(DEFAULT_RATES),
};

export type RateClass = keyof typeof DEFAULT_RATES;
export interface Rate {
  perSecond: number;
  burst: number;
}

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxJsonDepth: number;
  maxJsonArray: number;
  maxEventArtifacts: number;
  rateLimit: Record<RateClass, Rate>;
}

type RawLimits = Partial<z.output<z.ZodObject<typeof serverLimitsShape>>>;

const ms = (d: string | undefined, fallback: string) => parseDurationMs(d ?? fallback) ?? 0;

/**
 * The normalized limits of a parsed `server:` section (absent keys take their defaults).
 *
 * @example
 * serverLimits({ maxConnections: 50 }).headersTimeoutMs; // 10000
 */
export function serverLimits(raw: RawLimits | undefined): ServerLimits {
  return {
    headersTimeoutMs: ms(raw?.headersTimeout, "10s"),
    requestTimeoutMs: ms(raw?.requestTimeout, "30s"),
    keepAliveTimeoutMs: ms(raw?.keepAliveTimeout, "5s"),
    idleTimeoutMs: ms(raw?.idleTimeout, "120s"),
    maxConnections: raw?.maxConnections ?? 1000,
    maxJsonDepth: raw?.maxJsonDepth ?? 32,
    maxJsonArray: raw?.maxJsonArray ?? 10_000,
    maxEventArtifacts: raw?.maxEventArtifacts ?? 1000,
    rateLimit: {
      events: raw?.rateLimit?.events ?? DEFAULT_RATES.events,
      erasure: raw?.rateLimit?.erasure ?? DEFAULT_RATES.erasure,
      reads: raw?.rateLimit?.reads ?? DEFAULT_RATES.reads,
    },
  };
}

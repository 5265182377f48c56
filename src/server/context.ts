import type { RateClass } from "../config/server-limits.js";
import type { Lethe } from "../lethe.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { DatasetStats } from "./dataset-stats.js";
import type { Metrics } from "./metrics.js";
import type { RunLauncher } from "./run-launcher.js";
import type { Scope } from "./scopes.js";
import type { TokenStore } from "./tokens.js";
import type { TtlCache } from "./ttl-cache.js";

/** Structured log calls the server makes (a pino logger fits). */
export interface ServerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything a route handler may use; built once by `buildApp`. */
export interface ServerContext {
  lethe: Lethe;
  tokens: TokenStore;
  metrics: Metrics;
  stats: TtlCache<DatasetStats[]>;
  runs: RunLauncher;
  log: ServerLog;
  scheduler: Scheduler | undefined;
  /** Wakes the background drainer of a queue after something was accepted into it. */
  notify(queue: "events" | "requests"): void;
  isReady(): boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Token scopes that may call the route (any of them; `admin` always may). Absent: public. */
    scopes?: Scope[];
    /** Per-token rate limit class (`server.rateLimit.<class>`); absent: not rate-limited. */
    rate?: RateClass;
  }
  interface FastifyRequest {
    tokenId?: string;
  }
  interface FastifyInstance {
    /** The context `buildApp` built (tests reach the token store and scheduler through it). */
    lethe: ServerContext;
  }
}

import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { Lethe } from "../lethe.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { accessLogHook } from "./access-log.js";
import { authHook } from "./auth.js";
import { effectiveCap, fdLimit, gateConnections } from "./connection-gate.js";
import type { ServerContext, ServerLog } from "./context.js";
import { type DatasetStats, datasetStats } from "./dataset-stats.js";
import { clientErrorHandler, errorBody, errorHandler, frameworkErrorHandler } from "./http-errors.js";
import { emptyBodyParser, jsonBodyParser } from "./json-body.js";
import { Metrics } from "./metrics.js";
import { QUEUE_ENDPOINTS } from "./openapi-queues.js";
import { RateLimiter, rateLimitHook } from "./rate-limit.js";
import { requestCounts } from "./request-counts.js";
import { auditRoutes } from "./routes/audit.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { datasetRoutes } from "./routes/datasets.js";
import { erasureRoutes } from "./routes/erasure.js";
import { eventRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { holdRoutes } from "./routes/holds.js";
import { metricsRoutes } from "./routes/metrics.js";
import { openapiRoutes } from "./routes/openapi.js";
import { runRoutes } from "./routes/runs.js";
import { RunLauncher } from "./run-launcher.js";
import { runtimeMetrics } from "./runtime-metrics.js";
import { storeUpGauge } from "./store-health.js";
import { TokenStore } from "./tokens.js";
import { TtlCache } from "./ttl-cache.js";

export interface AppOptions {
  /** Structured logger for access logs and errors (a redacting pino logger in `lethe serve`). */
  log?: ServerLog;
  /** Write one access-log line per request (default true). */
  accessLog?: boolean;
  /** Maximum request body in bytes (default `server.bodyLimit` from the config). */
  bodyLimit?: number;
  tokens?: TokenStore;
  scheduler?: Scheduler;
  /** Called after an erasure request or event was accepted (wakes that queue's background drainer). */
  notify?: (queue: "events" | "requests") => void;
  isReady?: () => boolean;
}

const silent: ServerLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Builds the HTTP API, metrics and dashboard around an open {@link Lethe},
 * without listening: tests call `app.inject()`, `lethe serve` calls
 * `app.listen()`. Every endpoint but `/healthz`, `/readyz` and the dashboard's
 * static files needs a bearer token with the right scope.
 *
 * @example
 * const app = await buildApp(lethe, { log });
 * await app.listen({ port: 8787, host: "127.0.0.1" });
 */
export async function buildApp(lethe: Lethe, opts: AppOptions = {}): Promise<FastifyInstance> {
  const log = opts.log ?? silent;
  const reqPrefix = randomBytes(4).toString("hex");
  let reqSeq = 0;
  const stats = new TtlCache<DatasetStats[]>(5000, () => datasetStats(lethe, new Date()));
  const scheduler = opts.scheduler;
  const metrics = new Metrics({
    lethe,
    stats,
    isLeader: () => scheduler?.lease.isLeader() ?? false,
    requests: () => requestCounts(lethe.state),
    queueDepth: async () => {
      const d = await lethe.events.depth();
      return d.pending + d.processing;
    },
  });
  const runs = new RunLauncher(lethe, (r, seconds) => {
    const status = r instanceof Error ? "failed" : r.interrupted ? "interrupted" : "ok";
    metrics.runDuration.observe({ job: "http", status }, seconds);
    stats.invalidate();
    if (r instanceof Error) log.error({ err: r.message }, "triggered run failed");
  });
  const ctx: ServerContext = {
    lethe,
    tokens: opts.tokens ?? new TokenStore(lethe.state),
    metrics,
    stats,
    runs,
    log,
    scheduler,
    notify: opts.notify ?? (() => undefined),
    isReady: opts.isReady ?? (() => true),
  };
  const limits = lethe.config.server.limits;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? lethe.config.server.bodyLimit,
    // Slow or idle clients are cut off (docs/serve.md "Limits"); Node checks every second, not every 30 s.
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    return503OnClosing: true,
    // Unique per process and cheap: a random prefix and a counter.
    genReqId: () => `${reqPrefix}-${(reqSeq++).toString(36)}`,
    // Errors before routing (HTTP parser, bad URL) in lethe's error shape too.
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  });
  app.decorate("lethe", ctx);
  const cap = effectiveCap(limits.maxConnections, fdLimit());
  if (cap < limits.maxConnections)
    log.warn({ configured: limits.maxConnections, cap }, "server.maxConnections lowered to half the open-file limit");
  let openConnections = () => 0;
  const runtime = runtimeMetrics(metrics.registry, () => openConnections());
  storeUpGauge(metrics.registry, lethe);
  openConnections = gateConnections(app.server, cap, () => runtime.connectionsRefused.inc());
  // JSON only: any other body type is a 415, not a string for the validators to puzzle over.
  app.removeContentTypeParser("text/plain");
  jsonBodyParser(app, { maxDepth: limits.maxJsonDepth, maxArray: limits.maxJsonArray });
  emptyBodyParser(app);
  app.setErrorHandler(errorHandler(log));
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send(errorBody("NOT_FOUND", "no such endpoint"));
  });
  app.addHook("onRequest", authHook(ctx.tokens));
  const limiter = new RateLimiter(limits.rateLimit);
  app.addHook(
    "onRequest",
    rateLimitHook(limiter, (cls) => runtime.rateLimited.inc({ class: cls })),
  );
  app.addHook("onResponse", accessLogHook(log, metrics, opts.accessLog ?? true));
  app.addHook("onClose", async () => {
    runtime.stop();
    await runs.drain();
  });

  healthRoutes(app, ctx);
  runRoutes(app, ctx);
  auditRoutes(app, ctx);
  holdRoutes(app, ctx);
  erasureRoutes(app, ctx);
  eventRoutes(app, ctx);
  datasetRoutes(app, ctx);
  metricsRoutes(app, ctx);
  openapiRoutes(app, QUEUE_ENDPOINTS);
  dashboardRoutes(app);
  await app.ready();
  return app;
}

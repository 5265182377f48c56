import type { FastifyReply, FastifyRequest } from "fastify";
import type { ServerLog } from "./context.js";
import type { Metrics } from "./metrics.js";

/**
 * `onResponse` hook: one structured access-log line and the HTTP metrics per
 * request. Only the route pattern is logged (`/v1/erasure-requests/:id`),
 * never the URL: paths and query strings can carry subject ids.
 */
export function accessLogHook(log: ServerLog, metrics: Metrics, enabled: boolean) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const route = req.routeOptions.url ?? "(unmatched)";
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, seconds);
    if (!enabled) return;
    log.info(
      {
        reqId: req.id,
        method: req.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        // The token's public id (never the token); a key named "token" would be redacted anyway.
        ...(req.tokenId ? { client: req.tokenId } : {}),
      },
      "request",
    );
  };
}

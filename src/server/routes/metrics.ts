import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** `GET /metrics`: Prometheus text format (scope read: scrape with a bearer token). */
export function metricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/metrics", { config: { scopes: ["read"] } }, async (_req, reply) =>
    reply.type(ctx.metrics.contentType).send(await ctx.metrics.render()),
  );
}

import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { ServerContext } from "../context.js";
import { errorBody } from "../http-errors.js";
import { storeStatus } from "../store-health.js";

/** `/healthz` (the process answers) and `/readyz` (state reachable, not shutting down; each store's health); no token. */
export function healthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_req, reply) => {
    if (!ctx.isReady()) return reply.status(503).send(errorBody("UNAVAILABLE", "starting or shutting down"));
    try {
      await sql`select 1`.execute(ctx.lethe.state.db);
    } catch {
      return reply.status(503).send(errorBody("UNAVAILABLE", "lethe's state database does not answer"));
    }
    // A down store does not make the service unready: intake, holds and the other stores go on.
    return { status: "ready", stores: storeStatus(ctx.lethe) };
  });
}

import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/**
 * `POST /v1/events/inference-complete`: validated with the library's own
 * schema (`lethe.events.enqueue`), answered 202 only once the event and its
 * `event_received` ledger entry are committed durably (group commit), then
 * the artifacts are deleted by the background drainer.
 */
export function eventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    "/v1/events/inference-complete",
    { config: { scopes: ["events:write"], rate: "events" } },
    async (req, reply) => {
      const r = await ctx.lethe.events.enqueue(req.body);
      if (!r.duplicate) ctx.metrics.eventsAccepted.inc();
      ctx.notify("events");
      return reply.status(202).send(r);
    },
  );
}

import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { holdBody, idParams } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `POST /v1/holds`, `DELETE /v1/holds/:id`, `GET /v1/holds` (as `hold add/release/list`). */
export function holdRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { lethe } = ctx;

  app.post("/v1/holds", { config: { scopes: ["admin"] } }, async (req, reply) => {
    const b = parseInput(holdBody, req.body, "body");
    if (b.dataset !== undefined) lethe.map.known(b.dataset);
    const id = await lethe.holds.add({
      reason: b.reason,
      ...(b.subject !== undefined ? { subject: b.subject } : {}),
      ...(b.dataset !== undefined ? { dataset: b.dataset } : {}),
      ...(b.until !== undefined ? { until: new Date(b.until) } : {}),
    });
    return reply.status(201).header("location", `/v1/holds/${id}`).send({ id });
  });

  app.delete("/v1/holds/:id", { config: { scopes: ["admin"] } }, async (req) => {
    const { id } = parseInput(idParams, req.params, "path");
    await lethe.holds.release(id);
    return { id, released: true };
  });

  app.get("/v1/holds", { config: { scopes: ["read"] } }, async () => ({ holds: await lethe.holds.list() }));
}

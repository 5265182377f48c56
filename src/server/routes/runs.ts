import type { FastifyInstance } from "fastify";
import { LetheError } from "../../core/errors.js";
import { planSummary } from "../../core/planner.js";
import { getRun, listRuns } from "../../executor/runs.js";
import type { ServerContext } from "../context.js";
import { idParams, listQuery, planQuery, runBody } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `GET /v1/plan`, `POST /v1/plan`, `POST /v1/runs`, `GET /v1/runs/:id`, `GET /v1/runs`. */
export function runRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // A GET changes nothing: the plan is computed, never recorded.
  app.get("/v1/plan", { config: { scopes: ["read"], rate: "reads" } }, async (req) => {
    const q = parseInput(planQuery, req.query, "query");
    return planSummary(
      await ctx.lethe.plan({ ...(q.dataset !== undefined ? { dataset: q.dataset } : {}), record: false }),
    );
  });

  // A recorded dry run (the plan's summary entry on the ledger, as `lethe plan`) is a write: admin.
  app.post("/v1/plan", { config: { scopes: ["admin"], rate: "reads" } }, async (req) => {
    const q = parseInput(planQuery, req.body ?? {}, "body");
    return planSummary(await ctx.lethe.plan(q.dataset !== undefined ? { dataset: q.dataset } : {}));
  });

  app.post("/v1/runs", { config: { scopes: ["admin"] } }, async (req, reply) => {
    const body = parseInput(runBody, req.body ?? {}, "body");
    const runId = await ctx.runs.start(body);
    return reply.status(202).header("location", `/v1/runs/${runId}`).send({ runId, status: "running" });
  });

  app.get("/v1/runs/:id", { config: { scopes: ["read"] } }, async (req) => {
    const { id } = parseInput(idParams, req.params, "path");
    const run = await getRun(ctx.lethe.state, id);
    if (!run) throw new LetheError("NOT_FOUND", `no run with id ${id}`);
    return run;
  });

  app.get("/v1/runs", { config: { scopes: ["read"] } }, async (req) => {
    const { limit } = parseInput(listQuery, req.query, "query");
    return { runs: await listRuns(ctx.lethe.state, limit) };
  });
}

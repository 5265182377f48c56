import type { FastifyInstance } from "fastify";
import { toEntry } from "../../ledger/query.js";
import type { ServerContext } from "../context.js";
import { runVerify } from "../run-verify.js";
import { auditQuery, listQuery } from "../schemas.js";
import { lastVerification } from "../status-store.js";
import { parseInput } from "../validate.js";

/** `GET /v1/audit`, `GET /v1/audit/verify`, plus the ledger status and janitor alerts for the dashboard. */
export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { lethe } = ctx;

  app.get("/v1/audit", { config: { scopes: ["read"], rate: "reads" } }, async (req) => {
    const q = parseInput(auditQuery, req.query, "query");
    const entries = await lethe.audit.log({
      ...(q.subject !== undefined ? { subject: q.subject } : {}),
      ...(q.dataset !== undefined ? { dataset: q.dataset } : {}),
      ...(q.key !== undefined ? { key: q.key } : {}),
      ...(q.runId !== undefined ? { runId: q.runId } : {}),
      limit: q.limit,
    });
    return { entries };
  });

  // Whole-ledger scan: one at a time per instance; a concurrent caller shares the running one's result.
  app.get("/v1/audit/verify", { config: { scopes: ["read"], rate: "reads" } }, async () => {
    const { checkpoints: _c, captured: _k, ...json } = await runVerify(lethe);
    return json;
  });

  app.get("/v1/ledger", { config: { scopes: ["read"] } }, async () => ({
    entries: await lethe.ledger.size(),
    verification: (await lastVerification(lethe.state)) ?? null,
  }));

  app.get("/v1/janitor/alerts", { config: { scopes: ["read"] } }, async (req) => {
    const { limit } = parseInput(listQuery, req.query, "query");
    const rows = await lethe.state.db
      .selectFrom("ledger")
      .selectAll()
      .where("action", "=", "janitor_found")
      .orderBy("seq", "desc")
      .limit(limit)
      .execute();
    return { alerts: rows.map(toEntry) };
  });
}

import type { FastifyInstance } from "fastify";
import { latestAnchor } from "../../ledger/anchor.js";
import { toEntry } from "../../ledger/query.js";
import { verifyJson } from "../../ledger/verify-report.js";
import type { ServerContext } from "../context.js";
import { runVerify } from "../run-verify.js";
import { auditQuery, listQuery, verifyQuery } from "../schemas.js";
import { lastVerification } from "../status-store.js";
import { parseInput } from "../validate.js";

/** `GET /v1/audit`, `GET`/`POST /v1/audit/verify`, plus the ledger status and janitor alerts for the dashboard. */
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
    // As `audit log`: after a prune, an empty answer says where history starts.
    const anchor = await latestAnchor(lethe.state);
    return { entries, ...(anchor ? { prunedBefore: anchor.before } : {}) };
  });

  // In a worker thread, one at a time per instance; a concurrent caller shares the running one's result.
  // A GET stores nothing; a POST also records how far the ledger verified and publishes the result.
  app.get("/v1/audit/verify", { config: { scopes: ["read"], rate: "reads" } }, async (req) => {
    const { full } = parseInput(verifyQuery, req.query, "query");
    return verifyJson(await runVerify(lethe, { full }));
  });
  app.post("/v1/audit/verify", { config: { scopes: ["read"], rate: "reads" } }, async (req) => {
    const { full } = parseInput(verifyQuery, req.query, "query");
    return verifyJson(await runVerify(lethe, { full, record: true }));
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

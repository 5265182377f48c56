import type { FastifyInstance } from "fastify";
import { checkReceivedAt } from "../../core/requests/received-at.js";
import type { ServerContext } from "../context.js";
import { erasureListQuery, erasureRequestBody, idParams, receiptParams } from "../schemas.js";
import { parseInput } from "../validate.js";

/**
 * `POST /v1/erasure-requests` (accepted as `received`, processed within
 * seconds by the background drainer), `GET /v1/erasure-requests[/:id]`,
 * `GET /v1/receipts/:requestId` (read only), `POST /v1/receipts/:requestId` (issues one a crash left unissued).
 */
export function erasureRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { lethe } = ctx;
  const readers = { scopes: ["read" as const, "erasure:write" as const] };

  app.post("/v1/erasure-requests", { config: { scopes: ["erasure:write"], rate: "erasure" } }, async (req, reply) => {
    const b = parseInput(erasureRequestBody, req.body, "body");
    const r = await lethe.requests.create(b.subject, {
      ...(b.reason !== undefined ? { reason: b.reason } : {}),
      ...(b.receivedAt !== undefined ? { receivedAt: checkReceivedAt(b.receivedAt) } : {}),
    });
    ctx.notify("requests");
    return reply.status(202).header("location", `/v1/erasure-requests/${r.id}`).send(r);
  });

  app.get("/v1/erasure-requests/:id", { config: readers }, async (req) => {
    const { id } = parseInput(idParams, req.params, "path");
    return lethe.requests.show(id);
  });

  app.get("/v1/erasure-requests", { config: readers }, async (req) => {
    const q = parseInput(erasureListQuery, req.query, "query");
    const requests = await lethe.requests.list({
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.overdue !== undefined ? { overdue: q.overdue } : {}),
    });
    return { requests: q.overdue === false ? requests.filter((r) => !r.overdue) : requests };
  });

  app.get("/v1/receipts/:requestId", { config: readers }, async (req, reply) => {
    const { requestId } = parseInput(receiptParams, req.params, "path");
    const text = await lethe.requests.storedReceipt(requestId);
    return reply.type("application/json; charset=utf-8").send(text);
  });

  // Issuing signs and stores (a checkpoint, the receipt row): a write, so a POST. The processor issues at
  // completion; this is for a receipt a crash left unissued. Idempotent: the stored receipt wins.
  app.post(
    "/v1/receipts/:requestId",
    { config: { scopes: ["erasure:write"], rate: "erasure" } },
    async (req, reply) => {
      const { requestId } = parseInput(receiptParams, req.params, "path");
      const text = await lethe.requests.receipt(requestId);
      return reply.type("application/json; charset=utf-8").send(text);
    },
  );
}

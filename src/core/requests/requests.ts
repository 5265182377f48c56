import { randomUUID } from "node:crypto";
import { parseDuration } from "../../config/duration.js";
import { notify } from "../../notify/notify.js";
import type { ErasureDeps } from "../erasure.js";
import { erasureUnavailable, normalizeSubjects } from "../erasure.js";
import { LetheError } from "../errors.js";
import { processRequest } from "./process.js";
import { receiptText } from "./receipt.js";
import { checkReceivedAt } from "./received-at.js";
import { claimable, listRequests, loadRequest, toDetail } from "./store.js";
import { sealSubject } from "./subject-box.js";
import {
  ANSWERED,
  type CreateRequestOptions,
  type ListRequestOptions,
  REQUEST_STATUSES,
  type RequestCreated,
  type RequestDetail,
  type RequestExtension,
  type RequestStatus,
  type RequestSummary,
} from "./types.js";

const OPEN: RequestStatus[] = ["received", "verified", "processing", "partial"];

export interface ProcessedRequest {
  id: string;
  status: RequestStatus;
}

/**
 * Erasure requests: a durable record per request with its legal deadline,
 * processed through the same erasure as `lethe erase`. Transport-agnostic:
 * the CLI and the HTTP API call these methods.
 *
 * @example
 * const r = await lethe.requests.create("user-42", { reason: "email of 2026-03-01" });
 * await lethe.requests.process(r.id);
 * const receipt = await lethe.requests.receipt(r.id);
 */
export class ErasureRequests {
  constructor(
    private readonly deps: () => ErasureDeps,
    private readonly boxKey: () => Promise<Buffer>,
  ) {}

  /** Records a request (`received`); an open request for the same subject is returned instead of a duplicate. */
  async create(subject: string, opts: CreateRequestOptions = {}): Promise<RequestCreated> {
    const { state, executor: ledger, config } = this.deps();
    const [s] = normalizeSubjects([subject], config.datasets.values());
    const received = checkReceivedAt(opts.receivedAt ?? new Date());
    const subjectHash = ledger.subjectHash(s as string);
    const open = await state.db
      .selectFrom("erasure_requests")
      .selectAll()
      .where("subject_hash", "=", subjectHash)
      .where("status", "in", OPEN)
      .orderBy("received_at")
      .executeTakeFirst();
    if (open)
      return {
        id: open.id,
        status: open.status as RequestStatus,
        receivedAt: open.received_at,
        dueAt: open.due_at,
        existing: true,
      };

    const id = `req_${randomUUID()}`;
    const receivedAt = received.toISOString();
    const dueAt = new Date(received.getTime() + config.erasure.deadlineSeconds * 1000).toISOString();
    const box = sealSubject(await this.boxKey(), id, s as string);
    const now = new Date().toISOString();
    await state.db.transaction().execute(async (trx) => {
      const seq = await ledger.recordInTx(trx, [
        {
          action: "erasure_requested",
          subjectHash,
          reason: opts.reason === undefined ? undefined : ledger.scrubText(opts.reason, [s]),
          data: { requestId: id, receivedAt, dueAt },
        },
      ]);
      await trx
        .insertInto("erasure_requests")
        .values({
          id,
          subject_hash: subjectHash,
          subject_box: box,
          status: "received",
          reason: opts.reason === undefined ? null : ledger.scrubText(opts.reason, [s]),
          received_at: receivedAt,
          due_at: dueAt,
          extensions: "[]",
          policy_hash: null,
          policy_datasets: null,
          run_ids: "[]",
          attempts: 0,
          lease_owner: null,
          lease_until: null,
          started_at: null,
          completed_at: null,
          result: null,
          error: null,
          receipt: null,
          ledger_first: seq.first,
          ledger_last: seq.last,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await notify(trx, config.notifications, "erasure.received", { requestId: id, subjectHash, receivedAt, dueAt });
    });
    return { id, status: "received", receivedAt, dueAt };
  }

  async list(opts: ListRequestOptions = {}): Promise<RequestSummary[]> {
    if (opts.status !== undefined && !REQUEST_STATUSES.includes(opts.status))
      throw new LetheError("VALIDATION", `status: expected one of ${REQUEST_STATUSES.join(", ")}`);
    return listRequests(this.deps().state, opts);
  }

  async show(id: string): Promise<RequestDetail> {
    return toDetail(await loadRequest(this.deps().state, id));
  }

  /**
   * Processes one request (any status but completed, e.g. a failed or
   * partially held one after its hold was released), or every open one:
   * received, verified, and processing ones whose process died.
   */
  async process(id?: string): Promise<ProcessedRequest[]> {
    const ctx = { deps: this.deps(), boxKey: this.boxKey };
    if (id !== undefined) return [{ id, status: await processRequest(ctx, id) }];
    const { state } = ctx.deps;
    const rows = await state.db
      .selectFrom("erasure_requests")
      .selectAll()
      .where("status", "in", OPEN)
      .orderBy("due_at")
      .execute();
    const out: ProcessedRequest[] = [];
    // A partial request waits for its down stores: retried once every store it needs answers again.
    const waiting = erasureUnavailable(ctx.deps.map).length > 0;
    for (const row of rows) {
      if (!claimable(row)) continue; // another live process has it
      if (row.status === "partial" && waiting) continue;
      try {
        out.push({ id: row.id, status: await processRequest(ctx, row.id) });
      } catch (err) {
        if (err instanceof LetheError && err.code === "CONFLICT") continue; // lost the race for it
        throw err;
      }
    }
    return out;
  }

  /** Moves the due date by a duration (`30d`), with the reason recorded on the request and the ledger. */
  async extend(id: string, by: string, reason: string): Promise<RequestDetail> {
    const seconds = parseDuration(by);
    if (seconds === undefined || seconds <= 0)
      throw new LetheError("VALIDATION", `by: expected a duration like 30d, got ${by}`);
    if (!reason.trim()) throw new LetheError("VALIDATION", "an extension needs a reason");
    const { state, executor: ledger } = this.deps();
    const row = await loadRequest(state, id);
    if (ANSWERED.includes(row.status as RequestStatus))
      throw new LetheError("CONFLICT", `request ${id} is already ${row.status}; its deadline no longer runs`);
    const dueAt = new Date(Date.parse(row.due_at) + seconds * 1000).toISOString();
    const ext: RequestExtension = { by, reason, at: new Date().toISOString(), previousDueAt: row.due_at, dueAt };
    await state.db.transaction().execute(async (trx) => {
      const seq = await ledger.recordInTx(trx, [
        {
          action: "erasure_extended",
          subjectHash: row.subject_hash,
          reason,
          data: { requestId: id, by, previousDueAt: row.due_at, dueAt },
        },
      ]);
      const r = await trx
        .updateTable("erasure_requests")
        .set({
          due_at: dueAt,
          extensions: JSON.stringify([...(JSON.parse(row.extensions) as RequestExtension[]), ext]),
          ledger_last: seq.last,
          updated_at: ext.at,
        })
        .where("id", "=", id)
        .where("due_at", "=", row.due_at)
        .executeTakeFirst();
      // A concurrent extension must not be lost: roll back, entry included.
      if (Number(r.numUpdatedRows) !== 1)
        throw new LetheError("CONFLICT", `request ${id} was extended concurrently; retry`);
    });
    return toDetail(await loadRequest(state, id));
  }

  /**
   * The signed receipt file's exact text (completed or partially held
   * requests), issued (signed and stored once) if it was not yet: the
   * request processor issues it at completion, so this only writes after a
   * crash between the two. `GET /v1/receipts/:id` uses `storedReceipt`.
   */
  async receipt(id: string): Promise<string> {
    const { state, executor: ledger } = this.deps();
    return receiptText(state, ledger, id);
  }

  /** The receipt as issued, read only (a GET changes nothing); CONFLICT when it was not issued yet. */
  async storedReceipt(id: string): Promise<string> {
    const row = await loadRequest(this.deps().state, id);
    if (row.receipt !== null) return row.receipt;
    throw new LetheError(
      "CONFLICT",
      row.status === "completed" || row.status === "partially_held"
        ? `request ${id} has no receipt issued yet (it is issued at completion; issue it with the receipt command or POST /v1/receipts/${id})`
        : `request ${id} is ${row.status}: a receipt is issued once it is completed or partially held`,
    );
  }
}

import type { Executor } from "../../executor/executor.js";
import type { StateHandle } from "../../state/open-state.js";
import { LetheError } from "../errors.js";
import { RECEIPT_TYPE, type ReceiptBody, receiptFileText, signReceipt } from "../receipts.js";
import { loadRequest, type RequestRow } from "./store.js";
import type { RequestOutcome } from "./types.js";

/**
 * Issues the signed receipt of an answered request (completed or partially
 * held) once, and stores its exact text so every later download is the same
 * document. The embedded checkpoint is signed after the request's last
 * ledger entry, so it covers the whole range the receipt cites.
 *
 * @example
 * const text = await receiptText(state, ledger, "req_…");
 */
export async function receiptText(state: StateHandle, ledger: Executor, id: string): Promise<string> {
  const row = await loadRequest(state, id);
  if (row.receipt !== null) return row.receipt;
  if (row.status !== "completed" && row.status !== "partially_held")
    throw new LetheError(
      "CONFLICT",
      `request ${id} is ${row.status}: a receipt is issued once it is completed or partially held`,
    );
  const text = receiptFileText(signReceipt((m) => ledger.sign(m), ledger.publicKeyPem(), await body(ledger, row)));
  await state.db
    .updateTable("erasure_requests")
    .set({ receipt: text })
    .where("id", "=", id)
    .where("receipt", "is", null)
    .execute();
  // Another process may have issued it first: the stored one is the receipt.
  return (await loadRequest(state, id)).receipt ?? text;
}

async function body(ledger: Executor, row: RequestRow): Promise<ReceiptBody> {
  const outcome = JSON.parse(row.result ?? "{}") as Partial<RequestOutcome>;
  const checkpoint = await ledger.checkpoint();
  return {
    type: RECEIPT_TYPE,
    version: 1,
    requestId: row.id,
    subjectHash: row.subject_hash,
    status: row.status,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    issuedAt: new Date().toISOString(),
    policyHash: row.policy_hash,
    datasets: (outcome.datasets ?? []).map((d) => ({
      name: d.name,
      found: d.found,
      deleted: d.deleted,
      held: d.held,
      filesRemoved: d.filesRemoved,
      failed: d.failed,
    })),
    held: (outcome.holds ?? []).map((h) => ({ holdId: h.id, reason: h.reason, dataset: h.dataset, count: h.held })),
    lineage: (outcome.lineage ?? []).map((l) => ({
      dataset: l.dataset,
      derived: l.derived.map((d) => ({ dataset: d.dataset, count: d.count, artifacts: d.artifacts })),
    })),
    actions: outcome.actions ?? [],
    runIds: JSON.parse(row.run_ids) as string[],
    ledger: { first: Number(row.ledger_first ?? 0), last: Number(row.ledger_last ?? 0), checkpoint },
  };
}

import { hexEqual } from "../../crypto/hex-equal.js";
import type { EntryInput } from "../../ledger/types.js";
import type { NotifyEvent } from "../../notify/events.js";
import { notify } from "../../notify/notify.js";
import type { StateTx } from "../../state/dialect.js";
import type { UnavailableDataset } from "../data-map.js";
import { type ErasureDeps, eraseSubjects, erasureTargets, erasureUnavailable } from "../erasure.js";
import { LetheError } from "../errors.js";
import { safeReason } from "../safe-reason.js";
import { receiptText } from "./receipt.js";
import { claim, loadRequest, newOwner, type RequestRow, release, renew } from "./store.js";
import { openSubject } from "./subject-box.js";
import { tallyRequest } from "./tally.js";
import type { RequestOutcome, RequestStatus } from "./types.js";

export interface ProcessContext {
  deps: ErasureDeps;
  /** The key that opens requests' subject boxes. */
  boxKey(): Promise<Buffer>;
}

/**
 * Moves one request forward: received → verified → processing → completed |
 * partially_held | failed. Every change is one ledger entry committed with
 * the row update. The policy version is frozen when processing first starts;
 * each attempt gets its own run, recorded on the request before anything is
 * deleted, so after a kill -9 the next `process` reconciles the interrupted
 * batch, resumes with what is left and sums every attempt from the ledger.
 * Processing an already completed request changes nothing (idempotent).
 *
 * @example
 * const status = await processRequest(ctx, "req_…");
 */
export async function processRequest(ctx: ProcessContext, id: string): Promise<RequestStatus> {
  const { state } = ctx.deps;
  const row = await loadRequest(state, id);
  if (row.status === "completed") {
    await receiptText(state, ctx.deps.executor, id);
    return "completed";
  }
  const owner = newOwner();
  if (!(await claim(state, row, owner)))
    throw new LetheError("CONFLICT", `request ${id} is being processed by another process (${row.lease_owner})`);
  const timer = setInterval(() => void renew(state, id, owner).catch(() => undefined), 60_000);
  timer.unref();
  try {
    return await advance(ctx, await loadRequest(state, id), owner);
  } catch (err) {
    const message = safeReason(err, 500);
    try {
      await transition(ctx, id, owner, "failed", { action: "erasure_failed", reason: message }, { error: message });
    } catch {
      throw err; // the claim was lost (or the state is unreachable): report the original problem
    }
    return "failed";
  } finally {
    clearInterval(timer);
    await release(state, id, owner).catch(() => undefined);
  }
}

async function advance(ctx: ProcessContext, row: RequestRow, owner: string): Promise<RequestStatus> {
  const { executor: ledger, map, config } = ctx.deps;
  if (row.subject_box === null) throw new LetheError("CONFLICT", "the request's subject was already wiped");
  const subject = openSubject(await ctx.boxKey(), row.id, row.subject_box);
  if (row.status === "received") {
    if (!hexEqual(ledger.subjectHash(subject), row.subject_hash))
      throw new LetheError("CRYPTO_ERROR", "the stored subject does not match its HMAC (was the subject key changed?)");
    await transition(ctx, row.id, owner, "verified", { action: "erasure_verified", reason: "request well-formed" }, {});
  }

  // Subject datasets of a down store belong to the policy too: they are erased once it is back.
  const down = erasureUnavailable(map);
  const downNames = new Set(down.map((u) => u.dataset));
  const current = [...tryTargets(map), ...downNames];
  const frozen = row.policy_datasets ? (JSON.parse(row.policy_datasets) as string[]) : current;
  const missing = frozen.filter((n) => !map.datasets.has(n) && !downNames.has(n));
  if (missing.length > 0)
    throw new LetheError(
      "CONFLICT",
      `dataset(s) ${missing.join(", ")} of the policy frozen at start are no longer in the data map`,
    );
  const attempt = Number(row.attempts) + 1;
  const first = row.policy_hash === null;
  // An erasure never covers less than the frozen policy; datasets added since are erased too.
  const all = [...new Set([...frozen, ...current])];
  const waiting = down.filter((u) => all.includes(u.dataset));
  const datasets = all.filter((n) => !downNames.has(n));
  const reason = `request ${row.id}`;
  const start = {
    kind: "erasure" as const,
    reason: "erasure",
    data: { subjects: 1, datasets, requestId: row.id, note: ledger.scrubText(reason, [subject]) },
  };
  // The run (row and run_started) and the request's `erasure_processing`, which records the run on the request
  // before anything is deleted, commit together: after a kill -9 the next `process` finds the run on the request
  // and on the ledger, closes it as crashed and resumes.
  let runIds: string[] = [];
  const runId = await ledger.openRun(start, (trx, runId) => {
    runIds = [...(JSON.parse(row.run_ids) as string[]), runId];
    return transitionInTx(ctx, trx, row, owner, "processing", {
      entry: {
        action: "erasure_processing",
        runId,
        reason: first ? "started" : `attempt ${attempt} (resumed)`,
        data: { policyHash: row.policy_hash ?? config.policyHash, attempt },
      },
      patch: {
        attempts: attempt,
        run_ids: JSON.stringify(runIds),
        ...(first
          ? {
              policy_hash: config.policyHash,
              policy_datasets: JSON.stringify(frozen),
              started_at: new Date().toISOString(),
            }
          : {}),
      },
    });
  });
  try {
    if (datasets.length === 0) return await partial(ctx, row.id, owner, runId, waiting);
    return await erase(ctx, row, owner, subject, { runId, runIds, datasets, waiting, reason });
  } catch (err) {
    // Whatever threw before the erasure's own run closed it (or after), the run ends with exactly one
    // run_finished: this one is refused when the run is already closed.
    await ledger
      .finishRun(runId, {
        status: "failed",
        reason: `error: ${safeReason(err)}`,
        data: { status: "failed" },
        summary: { error: safeReason(err) },
      })
      .catch(() => undefined);
    throw err;
  }
}

interface Attempt {
  runId: string;
  runIds: string[];
  datasets: string[];
  waiting: UnavailableDataset[];
  reason: string;
}

/** One attempt's erasure, in the run the request opened, then the request's outcome. */
async function erase(
  ctx: ProcessContext,
  row: RequestRow,
  owner: string,
  subject: string,
  a: Attempt,
): Promise<RequestStatus> {
  const { executor: ledger, state } = ctx.deps;
  const { runId, waiting } = a;
  const r = await eraseSubjects(ctx.deps, [subject], {
    yes: true,
    runId,
    requestId: row.id,
    datasets: a.datasets,
    reason: a.reason,
  });
  const last = r.subjects[0];
  if (!last) throw new Error("erasure returned no result");
  const outcome: RequestOutcome = {
    ...(await tallyRequest(state, row.subject_hash, a.runIds, last)),
    scrub: r.scrub ?? [],
  };
  const unclean = outcome.scrub?.some((p) => !p.complete) ?? false;
  const status: RequestStatus =
    outcome.failed > 0 || outcome.residue > 0 || unclean
      ? "failed"
      : waiting.length > 0
        ? "partial"
        : outcome.held > 0
          ? "partially_held"
          : "completed";
  await transition(ctx, row.id, owner, status, completionEntry(status, runId, outcome), {
    result: JSON.stringify(outcome),
    completed_at: status === "failed" ? null : new Date().toISOString(),
    error:
      status === "failed"
        ? `${outcome.failed} failed, ${outcome.residue} residual item(s)${unclean ? ", erased bytes left in a store's files" : ""}`
        : status === "partial"
          ? unreachableText(waiting)
          : null,
    // Only a fully answered request forgets its subject; a held or failed one must be able to finish later.
    ...(status === "completed" ? { subject_box: null } : {}),
    // A receipt speaks for one outcome: after a later attempt (a hold released), the next one is issued afresh.
    receipt: null,
  });
  if (status !== "failed" && status !== "partial") await receiptText(state, ledger, row.id);
  return status;
}

function unreachableText(waiting: UnavailableDataset[]): string {
  const stores = [...new Set(waiting.map((u) => u.store))];
  return `store(s) ${stores.join(", ")} unreachable: dataset(s) ${waiting.map((u) => u.dataset).join(", ")} not erased yet (retried when back)`;
}

/** Every subject dataset is on a down store: nothing to erase yet; recorded as partial and retried. */
async function partial(
  ctx: ProcessContext,
  id: string,
  owner: string,
  runId: string,
  waiting: UnavailableDataset[],
): Promise<RequestStatus> {
  const stores = [...new Set(waiting.map((u) => u.store))];
  // Closed like every run (run_finished and the row together), before the request's own entry, as withRun does.
  const unavailable = waiting.map(({ dataset, store }) => ({ dataset, store }));
  await ctx.deps.executor.finishRun(runId, {
    status: "partial",
    reason: `store unreachable: ${waiting.length} dataset(s) not reached`,
    data: { status: "partial", subjects: 1, unavailable },
    summary: { subjects: 1, unavailable },
  });
  await ctx.deps.executor.checkpoint();
  await transition(
    ctx,
    id,
    owner,
    "partial",
    { action: "erasure_partial", runId, reason: "store unreachable", data: { stores } },
    { error: unreachableText(waiting) },
  );
  return "partial";
}

/** The reachable datasets an erasure covers (none reachable is not an error here). */
function tryTargets(map: ErasureDeps["map"]): string[] {
  try {
    return erasureTargets(map).map((d) => d.config.name);
  } catch {
    return [];
  }
}

function completionEntry(status: RequestStatus, runId: string, o: RequestOutcome): Omit<EntryInput, "subjectHash"> {
  return {
    action: status === "failed" ? "erasure_failed" : status === "partial" ? "erasure_partial" : "erasure_completed",
    runId,
    reason: status,
    data: {
      status,
      datasets: o.datasets,
      held: o.held,
      holds: o.holds.map((h) => ({ id: h.id, dataset: h.dataset, held: h.held })),
      failed: o.failed,
      residue: o.residue,
      actions: o.actions,
    },
  };
}

type RowPatch = Partial<Omit<RequestRow, "id">>;

/** One state change: its ledger entry first, then the row, in one transaction; only while we hold the claim. */
async function transition(
  ctx: ProcessContext,
  id: string,
  owner: string,
  status: RequestStatus,
  entry: Omit<EntryInput, "subjectHash">,
  patch: RowPatch,
): Promise<void> {
  const row = await loadRequest(ctx.deps.state, id);
  await ctx.deps.state.db
    .transaction()
    .execute((trx) => transitionInTx(ctx, trx, row, owner, status, { entry, patch }));
}

/** {@link transition} inside the caller's transaction (the one that opens the attempt's run). */
async function transitionInTx(
  ctx: ProcessContext,
  trx: StateTx,
  row: RequestRow,
  owner: string,
  status: RequestStatus,
  change: { entry: Omit<EntryInput, "subjectHash">; patch: RowPatch },
): Promise<void> {
  const { id } = row;
  const { entry, patch } = change;
  const seq = await ctx.deps.executor.recordInTx(trx, [
    { ...entry, subjectHash: row.subject_hash, data: { requestId: id, ...(entry.data ?? {}) } },
  ]);
  const r = await trx
    .updateTable("erasure_requests")
    .set({ ...patch, status, ledger_last: seq.last, updated_at: new Date().toISOString() })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new LetheError("CONFLICT", `lost the claim on request ${id}`);
  const event = OUTCOME_EVENTS[status];
  if (event)
    await notify(trx, ctx.deps.config.notifications, event, {
      requestId: id,
      subjectHash: row.subject_hash,
      status,
      dueAt: row.due_at,
      ...(entry.runId ? { runId: entry.runId } : {}),
      ...outcomeCounts(entry),
    });
}

/** A request's final states, each a notification committed with the state change. */
const OUTCOME_EVENTS: Partial<Record<RequestStatus, NotifyEvent>> = {
  completed: "erasure.completed",
  partially_held: "erasure.partial",
  partial: "erasure.partial",
  failed: "erasure.failed",
};

/** Counts only: the reason text of a failure may quote a store's error, so it stays on the ledger. */
function outcomeCounts(entry: Omit<EntryInput, "subjectHash">): Record<string, number> {
  const d = (entry.data ?? {}) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const k of ["held", "failed", "residue"]) if (typeof d[k] === "number") out[k] = d[k] as number;
  return out;
}

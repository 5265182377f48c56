import { LetheError } from "../core/errors.js";
import { safeReason } from "../core/safe-reason.js";
import { connectionFailure } from "../core/statement-error.js";
import type { Ledger } from "../ledger/ledger.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { finishRunRecorded } from "./close-run.js";
import { insertRun, newRunId } from "./runs.js";

export interface RunStart {
  kind: "retention" | "erasure" | "janitor";
  /** The run's id (default: a new one). */
  runId?: string | undefined;
  /** The run was already opened by {@link openRun} (an erasure request records it in the same transaction). */
  opened?: boolean | undefined;
  /** `run_started`'s reason. */
  reason: string;
  data?: Record<string, unknown> | undefined;
  /** Told the id once `run_started` is on the ledger, before the body runs (scheduler claims). */
  onRunStarted?: ((runId: string) => void | Promise<void>) | undefined;
}

export interface RunEnd {
  /** The run row's status: ok, partial, interrupted, findings… */
  status: string;
  /** `run_finished`'s reason. */
  reason: string;
  data?: Record<string, unknown> | undefined;
  /** Stored on the run row (default: `data`). */
  summary?: unknown;
  /** Sign a checkpoint over the ledger once the run is recorded. */
  checkpoint?: boolean;
}

/**
 * One run, always closed: the run row and `run_started` first, then `body`,
 * then `run_finished` and the row's final status, then the checkpoint. When `body` throws, the run
 * is still closed (`run_finished` with reason `error: …`, status `failed`)
 * and the error rethrown; a process killed meanwhile leaves the row
 * `running`, which the next start closes as `crashed` (executor/crashed-runs).
 *
 * @example
 * const n = await withRun(state, ledger, { kind: "janitor", reason: "janitor" }, async (runId) => ({
 *   result: 0,
 *   end: { status: "ok", reason: "ok" },
 * }));
 */
export async function withRun<T>(
  state: StateHandle,
  ledger: Ledger,
  start: RunStart,
  body: (runId: string) => Promise<{ result: T; end: RunEnd }>,
): Promise<T> {
  const runId = start.runId ?? newRunId();
  let out: { result: T; end: RunEnd };
  try {
    // Told at once, so a take-over after a crash can close this run whatever point it reached.
    await start.onRunStarted?.(runId);
    if (!start.opened) await openRun(state, ledger, { ...start, runId });
    out = await body(runId);
  } catch (err) {
    // If even this fails the row stays `running`, and the next start closes it as crashed: never a row closed
    // without its entry, nor an entry the row contradicts.
    await finishRunRecorded(state, ledger, runId, {
      status: "failed",
      reason: `error: ${safeReason(err)}`,
      data: { status: "failed" },
      summary: { error: safeReason(err) },
    }).catch(() => undefined);
    throw codedConnectionLoss(err);
  }
  const { end } = out;
  try {
    // The entry and the row's status commit together: a kill between them would close the run twice. Closed before
    // the checkpoint: a refused checkpoint (a break on the ledger) must not leave the row `running` either.
    await finishRunRecorded(state, ledger, runId, {
      status: end.status,
      reason: end.reason,
      data: end.data,
      summary: end.summary ?? end.data,
    });
  } catch (err) {
    // Not closed (the state was lost before the commit): left `running`, the next start closes it as crashed.
    throw codedConnectionLoss(err);
  }
  if (end.checkpoint !== false) {
    try {
      await ledger.checkpoint();
    } catch (err) {
      throw codedConnectionLoss(err);
    }
  }
  return out.result;
}

/**
 * Opens a run: its row and its `run_started` entry in one state transaction, with `inTx` (what the caller records
 * with it) in the same transaction; returns the run's id. A process killed between the row and the entry would
 * leave a row the next start closes with a `run_finished` (crashed) for a run the ledger never saw start. What
 * {@link withRun} does first; an erasure request calls it itself so that the run and the request's
 * `erasure_processing` commit together, then hands the open run to withRun (`opened`).
 *
 * @example
 * const runId = await openRun(state, ledger, { kind: "erasure", reason: "erasure" }, (trx, id) => markProcessing(trx, id));
 */
export async function openRun(
  state: StateHandle,
  ledger: Ledger,
  start: Omit<RunStart, "opened" | "onRunStarted">,
  inTx?: (trx: StateTx, runId: string) => Promise<void>,
): Promise<string> {
  const runId = start.runId ?? newRunId();
  await state.db.transaction().execute(async (trx) => {
    await ledger.appendInTx(trx, [{ action: "run_started", runId, reason: start.reason, data: start.data }]);
    await insertRun(trx, runId, start.kind);
    await inTx?.(trx, runId);
  });
  return runId;
}

/** A dropped connection is an operational failure, not a bug: coded, and no stack reaches the operator. */
function codedConnectionLoss(err: unknown): unknown {
  const lost = connectionFailure(err);
  if (!lost) return err;
  return new LetheError(
    "STORE_ERROR",
    `the run stopped: a database connection was lost (${lost}); what its last statement did is settled by the next run`,
    { connection: lost },
    { cause: err },
  );
}

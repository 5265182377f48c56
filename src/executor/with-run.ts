import { LetheError } from "../core/errors.js";
import { safeReason } from "../core/safe-reason.js";
import { connectionFailure } from "../core/statement-error.js";
import type { Ledger } from "../ledger/ledger.js";
import type { StateHandle } from "../state/open-state.js";
import { finishRunRecorded } from "./close-run.js";
import { insertRun, newRunId } from "./runs.js";

export interface RunStart {
  kind: "retention" | "erasure" | "janitor";
  /** An id made earlier (an erasure request records it before the run starts); else a new run is made. */
  runId?: string | undefined;
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
    const started = { action: "run_started" as const, runId, reason: start.reason, data: start.data };
    // A new run's row and its entry commit together: a process killed between them left a row the next start
    // closed with a `run_finished` (crashed) for a run the ledger never saw start.
    if (start.runId) await ledger.append([started]);
    else
      await state.db.transaction().execute(async (trx) => {
        await ledger.appendInTx(trx, [started]);
        await insertRun(trx, runId, start.kind);
      });
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

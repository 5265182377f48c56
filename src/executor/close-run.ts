import type { Ledger } from "../ledger/ledger.js";
import type { StateHandle } from "../state/open-state.js";

class NotRunning extends Error {}

/** What a run ends with: its `run_finished` entry and its row's final status and summary. */
export interface RunClose {
  status: string;
  reason: string;
  data?: Record<string, unknown> | undefined;
  summary?: unknown;
}

/**
 * Ends a run: `run_finished` on the ledger and the run row's final status in
 * one transaction, and only if the row is still marked running. A process
 * killed between the two would otherwise leave a run the ledger calls
 * finished but the next start closes again as `crashed` (two outcomes for
 * one run); and a run another instance already closed is not closed twice.
 * Returns false when the run was no longer running.
 *
 * @example
 * await finishRunRecorded(state, ledger, runId, { status: "ok", reason: "ok", data: { deleted: 3 } });
 */
export async function finishRunRecorded(
  state: StateHandle,
  ledger: Ledger,
  runId: string,
  end: RunClose,
): Promise<boolean> {
  try {
    await state.db.transaction().execute(async (trx) => {
      await ledger.appendInTx(trx, [{ action: "run_finished", runId, reason: end.reason, data: end.data }]);
      const r = await trx
        .updateTable("runs")
        .set({
          status: end.status,
          finished_at: new Date().toISOString(),
          ...(end.summary === undefined ? {} : { summary: JSON.stringify(end.summary) }),
        })
        .where("id", "=", runId)
        .where("status", "=", "running")
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new NotRunning();
    });
    return true;
  } catch (err) {
    if (err instanceof NotRunning) return false;
    throw err;
  }
}

/**
 * Closes a run whose owner died (`crashed`: its process is gone) or lost
 * its lease mid-run (`interrupted`): `run_finished` with that status in its
 * data and reason, through {@link finishRunRecorded}, so a run is never
 * closed twice.
 *
 * @example
 * await closeRun(state, ledger, claim.runId, "interrupted", "instance a stopped; resumed by b");
 */
export function closeRun(
  state: StateHandle,
  ledger: Ledger,
  runId: string,
  status: "interrupted" | "crashed",
  why: string,
): Promise<boolean> {
  return finishRunRecorded(state, ledger, runId, { status, reason: `${status}: ${why}`, data: { status } });
}

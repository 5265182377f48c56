import type { Ledger } from "../ledger/ledger.js";
import type { StateHandle } from "../state/open-state.js";

class NotRunning extends Error {}

/**
 * Closes a run whose instance died (or lost its lease) mid-run: `run_finished`
 * with an "interrupted" reason on the ledger and the run row marked
 * interrupted, in one transaction, and only if the run is still marked
 * running, so a run is never closed twice.
 *
 * @example
 * await closeInterruptedRun(state, ledger, claim.runId, "instance a stopped; resumed by b");
 */
export async function closeInterruptedRun(
  state: StateHandle,
  ledger: Ledger,
  runId: string,
  why: string,
): Promise<boolean> {
  try {
    await state.db.transaction().execute(async (trx) => {
      await ledger.appendInTx(trx, [{ action: "run_finished", runId, reason: `interrupted: ${why}` }]);
      const r = await trx
        .updateTable("runs")
        .set({ status: "interrupted", finished_at: new Date().toISOString() })
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

import type { Ledger } from "../ledger/ledger.js";
import type { StateHandle } from "../state/open-state.js";

class NotRunning extends Error {}

/**
 * Closes a run whose owner died (`crashed`: its process is gone) or lost
 * its lease mid-run (`interrupted`): `run_finished` with that status in its
 * data and reason on the ledger, and the run row marked, in one
 * transaction, and only if the run is still marked running, so a run is
 * never closed twice.
 *
 * @example
 * await closeRun(state, ledger, claim.runId, "interrupted", "instance a stopped; resumed by b");
 */
export async function closeRun(
  state: StateHandle,
  ledger: Ledger,
  runId: string,
  status: "interrupted" | "crashed",
  why: string,
): Promise<boolean> {
  try {
    await state.db.transaction().execute(async (trx) => {
      await ledger.appendInTx(trx, [{ action: "run_finished", runId, reason: `${status}: ${why}`, data: { status } }]);
      const r = await trx
        .updateTable("runs")
        .set({ status, finished_at: new Date().toISOString() })
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

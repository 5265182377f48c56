import { tagOf } from "../../ledger/items.js";
import { subjectIs } from "../../ledger/lookup.js";
import type { StateHandle } from "../../state/open-state.js";
import type { SubjectErasure } from "../erasure-types.js";
import type { RequestDataset, RequestOutcome } from "./types.js";

interface Counts {
  deleted: number;
  files: number;
  fileFailures: number;
}

/**
 * A request may take several attempts (a crash, a retry after a failure or a
 * released hold). Each attempt only sees what is left, so the request's totals
 * come from the ledger — the one record that survives a kill -9 — summed over
 * every run of the request: rows and linked files deleted (including entries
 * written by crash reconciliation) and linked files that could not be removed
 * (their rows are gone, so no later attempt retries them). What is held or
 * still present is a fact about now: it comes from the last attempt.
 *
 * The entries are told apart by the reasons the one deletion path writes:
 * `erasure`, `erasure: linked file`, `linked file: …`, with `(reconciled…)`
 * suffixes from reconciliation.
 *
 * @example
 * const outcome = await tallyRequest(state, subjectHash, runIds, lastAttempt);
 */
export async function tallyRequest(
  state: StateHandle,
  subjectHash: string,
  runIds: string[],
  last: SubjectErasure,
): Promise<RequestOutcome> {
  const byDataset = new Map<string, Counts>();
  if (runIds.length > 0) {
    const rows = await state.db
      .selectFrom("ledger")
      .select((eb) => ["dataset", "action", "reason", eb.fn.countAll<number>().as("n")])
      .where(subjectIs(subjectHash))
      .where("run_id", "in", runIds)
      .where("action", "in", ["deleted", "shredded", "failed"])
      .groupBy(["dataset", "action", "reason"])
      .execute();
    // Items of v2 batch entries: the batch entry carries dataset, action, reason and run.
    const items = await state.db
      .selectFrom("ledger_items as i")
      .innerJoin("ledger as l", "l.seq", "i.seq")
      .select((eb) => ["l.dataset", "l.action", "l.reason", eb.fn.countAll<number>().as("n")])
      .where("i.subject_tag", "=", tagOf(subjectHash))
      .where("l.run_id", "in", runIds)
      .where("l.action", "in", ["deleted", "shredded"])
      .groupBy(["l.dataset", "l.action", "l.reason"])
      .execute();
    for (const r of [...rows, ...items]) {
      if (r.dataset === null) continue;
      const c = byDataset.get(r.dataset) ?? { deleted: 0, files: 0, fileFailures: 0 };
      const n = Number(r.n);
      const reason = r.reason ?? "";
      if (r.action === "failed") {
        if (reason.startsWith("linked file")) c.fileFailures += n;
      } else if (reason.includes("linked file")) c.files += n;
      else c.deleted += n;
      byDataset.set(r.dataset, c);
    }
  }
  const datasets: RequestDataset[] = last.datasets.map((d) => {
    const c = byDataset.get(d.name) ?? { deleted: 0, files: 0, fileFailures: 0 };
    const rowFailures = d.failed - d.filesFailed;
    const failed = rowFailures + c.fileFailures;
    return {
      name: d.name,
      // Across attempts; at least what the last attempt saw (rows it could not delete stay as residue).
      found: Math.max(d.found, c.deleted + d.held + rowFailures),
      deleted: c.deleted,
      held: d.held,
      filesRemoved: c.files,
      failed,
      residue: d.residue,
    };
  });
  const hookFailures = last.failed - last.datasets.reduce((n, d) => n + d.failed, 0);
  return {
    datasets,
    holds: last.holds,
    lineage: last.lineage,
    actions: last.actions,
    held: last.held,
    failed: datasets.reduce((n, d) => n + d.failed, 0) + Math.max(0, hookFailures),
    residue: last.residue,
  };
}

import { overdueStatus } from "../executor/overdue.js";
import type { Lethe } from "../lethe.js";

export interface DatasetStats {
  name: string;
  store: string;
  kind: string;
  action: "delete" | "shred" | "expire";
  schedule: string;
  /** Items now in the dataset (as `plan`'s `total`). */
  total: number;
  /** Items past their retention now that no hold keeps (a held item is counted in `held`, never here). */
  expired: number;
  /** Items past their retention that an active legal hold keeps (as `plan`'s `held`). */
  held: number;
  /** Seconds since the oldest expired, not held, item expired; 0 when nothing is overdue. */
  lagSeconds: number;
}

/**
 * The per-dataset numbers the dashboard and `/metrics` show, computed by the
 * drivers where the data is (SQL counts, one tree walk), the same calls
 * `lethe plan` makes, so the numbers agree with the CLI.
 *
 * @example
 * const rows = await datasetStats(lethe, new Date());
 */
export async function datasetStats(lethe: Lethe, now: Date): Promise<DatasetStats[]> {
  const out: DatasetStats[] = [];
  const holds = await lethe.holds.active(now);
  const hash = (s: string) => lethe.executor.subjectHash(s);
  for (const ds of lethe.map.select()) {
    // A store that stopped answering leaves its datasets out, not the whole page (its health is in /readyz).
    const r = await Promise.all([ds.count(), overdueStatus(ds, holds, hash, now)]).catch(() => undefined);
    if (!r) continue;
    const [total, due] = r;
    out.push({
      name: ds.config.name,
      store: ds.config.store,
      kind: ds.config.storeKind,
      action: ds.config.action,
      schedule: ds.config.schedule,
      total,
      expired: due.overdue,
      held: due.held,
      lagSeconds: due.lagSeconds,
    });
  }
  return out;
}

import type { Lethe } from "../lethe.js";

export interface DatasetStats {
  name: string;
  store: string;
  kind: string;
  action: "delete" | "shred";
  schedule: string;
  /** Items now in the dataset (as `plan`'s `total`). */
  total: number;
  /** Items past their retention now (as `plan`'s `expired`, before holds). */
  expired: number;
  /** Seconds since the oldest expired item expired; 0 when nothing is overdue. */
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
  for (const ds of lethe.map.datasets.values()) {
    const [total, summary, oldest] = await Promise.all([ds.count(), ds.summarizeExpired(now), ds.oldestExpiry(now)]);
    out.push({
      name: ds.config.name,
      store: ds.config.store,
      kind: ds.config.storeKind,
      action: ds.config.action,
      schedule: ds.config.schedule,
      total,
      expired: summary.expired,
      lagSeconds: oldest === undefined ? 0 : Math.max(0, Math.round(now.getTime() / 1000 - oldest)),
    });
  }
  return out;
}

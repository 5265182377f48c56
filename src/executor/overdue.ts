import type { ActiveHolds } from "../core/holds.js";
import type { DatasetDriver } from "../core/types.js";
import { heldCount, itemHold, needsBySubject, type SubjectHasher } from "./hold-rule.js";

/** A dataset's items past a cutoff, with held items apart: a hold keeps them on purpose, so they are not overdue. */
export interface OverdueStatus {
  /** Past the cutoff and not held. */
  overdue: number;
  /** Past the cutoff and kept by an active hold. */
  held: number;
  bytes?: number;
  /** Seconds since the oldest overdue (not held) item expired; 0 when none. */
  lagSeconds: number;
}

/** Held items examined one by one to find the oldest unheld expiry; beyond it the driver's answer is used. */
const LAG_SCAN_CAP = 100_000;

/**
 * What is overdue in a dataset at `cutoff`, holds applied: the janitor, the
 * dashboard, `/v1/datasets` and `lethe_retention_lag_seconds` read this, so a
 * held item is reported as held everywhere and never as overdue.
 *
 * @example
 * const s = await overdueStatus(ds, holds, (x) => executor.subjectHash(x), cutoff, now);
 */
export async function overdueStatus(
  ds: DatasetDriver,
  holds: ActiveHolds,
  hash: SubjectHasher,
  cutoff: Date,
  now: Date = cutoff,
): Promise<OverdueStatus> {
  const summary = await ds.summarizeExpired(cutoff, { bySubject: needsBySubject(holds) });
  const held = Math.min(summary.expired, heldCount(ds, summary, holds, hash));
  const overdue = summary.expired - held;
  const base = { overdue, held, ...(summary.bytes !== undefined ? { bytes: summary.bytes } : {}) };
  if (overdue === 0) return { ...base, lagSeconds: 0 };
  const nowS = now.getTime() / 1000;
  const lag = (oldest: number | undefined) => (oldest === undefined ? 0 : Math.max(0, Math.round(nowS - oldest)));
  if (held === 0) return { ...base, lagSeconds: lag(await ds.oldestExpiry(cutoff)) };
  // Some expired items are held: the oldest expiry among the others needs a look at the items themselves.
  let oldest: number | undefined;
  let seen = 0;
  for await (const batch of ds.scanExpired(cutoff, ds.config.batchSize)) {
    for (const item of batch) {
      if (itemHold(holds, ds.config.name, item, hash)) continue;
      if (item.expiresAt === undefined) return { ...base, lagSeconds: lag(await ds.oldestExpiry(cutoff)) };
      if (oldest === undefined || item.expiresAt < oldest) oldest = item.expiresAt;
    }
    seen += batch.length;
    if (seen >= LAG_SCAN_CAP) return { ...base, lagSeconds: lag(await ds.oldestExpiry(cutoff)) };
  }
  return { ...base, lagSeconds: lag(oldest) };
}

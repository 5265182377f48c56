import type { DataMap } from "../core/data-map.js";
import type { ActiveHolds } from "../core/holds.js";
import { safeReason } from "../core/safe-reason.js";
import type { DatasetDriver, Item } from "../core/types.js";
import { emptyCounts } from "../executor/delete-batch.js";
import type { Executor } from "../executor/executor.js";
import { itemHold } from "../executor/hold-rule.js";
import type { ClaimedEvent, EventDatasetResult, EventResult } from "./event-queue.js";
import type { Artifact } from "./event-schema.js";

export interface ProcessorDeps {
  executor: Executor;
  map: DataMap;
  holds: () => Promise<ActiveHolds>;
}

/** The event's artifacts by dataset (each key once), leaving out those refused by an earlier attempt. */
function group(artifacts: Artifact[], skip: ReadonlySet<number>): Map<string, Artifact["key"][]> {
  const by = new Map<string, Artifact["key"][]>();
  artifacts.forEach((a, i) => {
    const keys = by.get(a.dataset) ?? [];
    by.set(a.dataset, keys);
    if (!skip.has(i) && !keys.some((k) => k === a.key)) keys.push(a.key);
  });
  return by;
}

/** What one attempt did, and whether another attempt could do more. */
export interface EventAttempt {
  result: EventResult;
  /** False when every failure left is a refusal for what the item is (or there is none). */
  retry: boolean;
}

/**
 * Items for explicit keys: as the store has them where it can say (a row's
 * own subject column, so a hold on its subject applies whatever key spelling
 * the event used), else with the subject the key carries (`subjectFromPath`).
 */
async function toItems(ds: DatasetDriver, keys: Artifact["key"][]): Promise<Item[]> {
  if (ds.findItems) {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += ds.config.batchSize)
      found.push(...(await ds.findItems(keys.slice(i, i + ds.config.batchSize))));
    return found;
  }
  return keys.map((key) => {
    const subject = ds.subjectOf?.(key);
    return subject ? { key, subject } : { key };
  });
}

/**
 * Deletes one event's artifacts through the single deletion path
 * (Executor.deleteBatch: holds, intent, driver delete, ledger outcome), with the
 * event id as the run id and reason `event`. Afterwards it asks each store
 * which artifacts still exist: anything left that was neither held nor
 * already counted as failed is a failure too, so the event is retried. An
 * artifact refused for what it is (a link, a directory) is recorded once and
 * never tried again: `result.refused` carries it to later attempts.
 *
 * @example
 * const { result, retry } = await processEvent(deps, claimed);
 */
export async function processEvent(deps: ProcessorDeps, ev: ClaimedEvent): Promise<EventAttempt> {
  const holds = await deps.holds();
  const before = new Set(ev.refused ?? []);
  const out: EventResult = { datasets: [], failures: [] };
  /** `dataset\0key` of the artifacts this attempt found refused for good. */
  const refusedNow = new Set<string>();
  let retry = false;
  for (const [name, keys] of group(ev.artifacts, before)) {
    const skipped = new Set(ev.artifacts.filter((a, i) => before.has(i) && a.dataset === name).map((a) => a.key)).size;
    const r: EventDatasetResult = {
      name,
      requested: keys.length + skipped,
      deleted: 0,
      missing: 0,
      held: 0,
      failed: skipped,
    };
    out.datasets.push(r);
    if (skipped > 0) out.failures.push(`${name}: ${skipped} item(s) refused by an earlier attempt: not tried again`);
    if (keys.length === 0) continue;
    const ds = deps.map.usable(name);
    if (!ds) {
      r.failed += keys.length;
      retry = true;
      const down = deps.map.unavailable().find((u) => u.dataset === name);
      // A down store's artifacts fail this attempt and are retried with the event's backoff.
      out.failures.push(
        down ? `${name}: store ${down.store} is unreachable` : `${name}: not a dataset of the current configuration`,
      );
      continue;
    }
    try {
      const counts = emptyCounts();
      const ctx = { holds, runId: ev.id, reason: "event" };
      const items = await toItems(ds, keys);
      for (let i = 0; i < items.length; i += ds.config.batchSize)
        await deps.executor.deleteBatch(ctx, ds, items.slice(i, i + ds.config.batchSize), counts);
      const failedKeys = new Set(counts.failures.map((f) => String(f.key)));
      const heldKeys = new Set<string>();
      const hash = (x: string) => deps.executor.subjectHash(x);
      if (counts.held > 0)
        for (const it of items) if (itemHold(holds, ds.config.name, it, hash)) heldKeys.add(String(it.key));
      // What the store calls these items is what was deleted; keys that named nothing are simply missing.
      const named = ds.findItems ? items.map((i) => i.key) : keys;
      const still = await ds.existing(named);
      const leftover = named.filter(
        (k) => still.has(String(k)) && !failedKeys.has(String(k)) && !heldKeys.has(String(k)),
      );
      // A link or directory under an artifact's name is never deleted: that is a failure, not "already gone".
      // (Drivers that already failed such an item in deleteBatch are not counted twice.)
      const refused = [...((await ds.refusedKeys?.(named)) ?? [])].filter(
        (k) => !heldKeys.has(k) && !failedKeys.has(k),
      );
      for (const k of refused) refusedNow.add(`${name}\0${k}`);
      for (const f of counts.failures) {
        if (f.permanent) refusedNow.add(`${name}\0${String(f.key)}`);
        else retry = true;
      }
      if (leftover.length > 0) retry = true;
      r.deleted = counts.deleted;
      r.held = counts.held;
      r.failed += counts.failed + leftover.length + refused.length;
      r.missing = Math.max(0, keys.length + skipped - r.deleted - r.held - r.failed);
      for (const f of counts.failures.slice(0, 5)) out.failures.push(`${name}: ${f.reason}`);
      if (leftover.length > 0) out.failures.push(`${name}: ${leftover.length} item(s) still present after delete`);
      if (refused.length > 0)
        out.failures.push(`${name}: ${refused.length} item(s) are not regular files (a link or directory): left alone`);
    } catch (err) {
      r.failed += keys.length;
      retry = true;
      out.failures.push(`${name}: ${safeReason(err, 280)}`);
    }
  }
  const refusedIdx = ev.artifacts
    .map((a, i) => (before.has(i) || refusedNow.has(`${a.dataset}\0${String(a.key)}`) ? i : -1))
    .filter((i) => i >= 0);
  if (refusedIdx.length > 0) out.refused = refusedIdx;
  return { result: out, retry };
}

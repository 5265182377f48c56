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

function group(artifacts: Artifact[]): Map<string, Artifact["key"][]> {
  const by = new Map<string, Artifact["key"][]>();
  for (const a of artifacts) {
    const keys = by.get(a.dataset) ?? [];
    if (!keys.some((k) => k === a.key)) keys.push(a.key);
    by.set(a.dataset, keys);
  }
  return by;
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
 * already counted as failed is a failure too, so the event is retried.
 *
 * @example
 * const r = await processEvent(deps, claimed);
 */
export async function processEvent(deps: ProcessorDeps, ev: ClaimedEvent): Promise<EventResult> {
  const holds = await deps.holds();
  const out: EventResult = { datasets: [], failures: [] };
  for (const [name, keys] of group(ev.artifacts)) {
    const r: EventDatasetResult = { name, requested: keys.length, deleted: 0, missing: 0, held: 0, failed: 0 };
    out.datasets.push(r);
    const ds = deps.map.usable(name);
    if (!ds) {
      r.failed = keys.length;
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
      r.deleted = counts.deleted;
      r.held = counts.held;
      r.failed = counts.failed + leftover.length + refused.length;
      r.missing = Math.max(0, keys.length - r.deleted - r.held - r.failed);
      for (const f of counts.failures.slice(0, 5)) out.failures.push(`${name}: ${f.reason}`);
      if (leftover.length > 0) out.failures.push(`${name}: ${leftover.length} item(s) still present after delete`);
      if (refused.length > 0)
        out.failures.push(`${name}: ${refused.length} item(s) are not regular files (a link or directory): left alone`);
    } catch (err) {
      r.failed = keys.length;
      out.failures.push(`${name}: ${safeReason(err, 280)}`);
    }
  }
  return out;
}

import type { DatasetDriver, ExpireResult, Item } from "../core/types.js";
import type { EntryInput } from "../ledger/types.js";
import { type BatchContext, type BatchCounts, type ExecutorDeps, splitHeld } from "./delete-batch.js";
import { openIntent } from "./intents.js";
import { recordOutcome } from "./record-outcome.js";

const STILL_LONG = "outcome unknown (the connection was lost while setting the TTL); TTL still too long, retried";
const PENDING = "outcome unknown (the connection was lost while setting the TTL); reconciled at the next run";

/** The retention a dataset's lifetimes are shortened to, in seconds (none for `retention: never`). */
export function lifetimeSeconds(ds: DatasetDriver): number | undefined {
  const r = ds.config.retention;
  return r.kind === "duration" ? r.seconds : undefined;
}

/**
 * Retention of an `action: expire` dataset (Redis): instead of deleting, the
 * driver sets or lowers each item's TTL so it ends within the retention, and
 * the executor records one `ttl_set` entry per item. Same path as a delete:
 * held items split off and recorded, intent → expire → outcome, a lost reply
 * settled by asking which items still exceed the retention.
 *
 * @example
 * await expireBatch(deps, { holds, runId, reason: "retention", expiredAt: now }, ds, batch, counts);
 */
export async function expireBatch(
  deps: ExecutorDeps,
  ctx: BatchContext,
  ds: DatasetDriver,
  batch: Item[],
  counts: BatchCounts,
): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const seconds = lifetimeSeconds(ds);
  if (!ds.expire || seconds === undefined)
    throw new Error(`dataset ${ds.config.name}: action expire needs a driver that can set lifetimes and a duration`);
  const { state, ledger } = deps;
  const name = ds.config.name;
  const todo = await splitHeld(ledger, ctx, ds, batch, counts);
  if (todo.length === 0) return;
  const intentId = await openIntent(
    state,
    ledger,
    ctx.runId,
    name,
    ctx.reason,
    "expire",
    todo.map((i) => ({ k: i.key, ...(i.subject ? { s: ledger.subjectHash(i.subject) } : {}) })),
  );
  const sent = await ds.expire(todo, seconds);
  const settled = await settleUnknownExpire(ds, sent, ctx.expiredAt ?? new Date());
  const result = settled ?? sent;
  const entries: EntryInput[] = result.expired.map((item) => ttlSetEntry(name, item, ctx, seconds));
  counts.ttlSet += result.expired.length;
  const pending = settled ? [] : (sent.unknown ?? []);
  await recordOutcome(
    deps,
    ctx,
    name,
    intentId,
    { entries, failed: result.failed, pending, pendingReason: PENDING },
    counts,
  );
}

function ttlSetEntry(dataset: string, item: Item, ctx: BatchContext, seconds: number): EntryInput {
  return {
    action: "ttl_set",
    dataset,
    key: item.key,
    subject: item.subject,
    reason: ctx.reason,
    runId: ctx.runId,
    data: {
      ttl: seconds,
      ...(item.expiresAt !== undefined ? { expiresAt: new Date(item.expiresAt * 1000).toISOString() } : {}),
    },
  };
}

/** A lost reply: items no longer exceeding the retention were shortened (or are gone); the rest failed this run. */
async function settleUnknownExpire(ds: DatasetDriver, r: ExpireResult, now: Date): Promise<ExpireResult | undefined> {
  const unknown = r.unknown ?? [];
  if (unknown.length === 0) return r;
  let still: Set<string>;
  try {
    still = new Set(
      (
        await ds.fetchExpired(
          unknown.map((i) => i.key),
          now,
        )
      ).map((i) => String(i.key)),
    );
  } catch {
    return undefined;
  }
  return {
    expired: [...r.expired, ...unknown.filter((i) => !still.has(String(i.key)))],
    failed: [
      ...r.failed,
      ...unknown.filter((i) => still.has(String(i.key))).map((item) => ({ item, reason: STILL_LONG })),
    ],
  };
}

/**
 * Crash reconciliation of an `expire` intent: items that no longer exceed the
 * retention get their `ttl_set` entry; the others are simply retried by the
 * next run. Returns the entries to record with the intent's removal.
 */
export async function reconcileExpireIntent(
  ds: DatasetDriver,
  intent: { runId: string; dataset: string; payload: { reason: string; items: { k: string | number; s?: string }[] } },
): Promise<EntryInput[]> {
  const keys = intent.payload.items.map((i) => i.k);
  const still = new Set((await ds.fetchExpired(keys, new Date())).map((i) => String(i.key)));
  const seconds = lifetimeSeconds(ds);
  return intent.payload.items
    .filter((i) => !still.has(String(i.k)))
    .map((i) => ({
      action: "ttl_set" as const,
      dataset: intent.dataset,
      key: i.k,
      subjectHash: i.s,
      runId: intent.runId,
      reason: `${intent.payload.reason} (reconciled after an interrupted run)`,
      ...(seconds !== undefined ? { data: { ttl: seconds } } : {}),
    }));
}

import { createHash, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { NotificationsConfig } from "../config/types.js";
import type { StateDatabase } from "../state/schema.js";
import type { NotifyEvent } from "./events.js";

/** What a notification may carry: ids, counts, names, statuses, times, subject HMACs. Never a raw subject or key. */
export type NotifyData = Record<
  string,
  string | number | boolean | null | readonly unknown[] | Record<string, unknown>
>;

export interface NotifyOptions {
  /** Once-only events: a second notify with the same event and dedupe key adds nothing (per webhook). */
  dedupe?: string;
  now?: Date;
}

/** The JSON body every webhook receives (docs/notifications.md). */
export interface NotificationBody {
  id: string;
  event: NotifyEvent;
  at: string;
  source: "lethe";
  data: NotifyData;
}

/**
 * The one way lethe raises a notification: one outbox row per subscribed
 * webhook, written through `db`, so a caller that passes its transaction
 * commits the notification with the state change it reports (a crash or
 * restart loses neither). Delivery happens later, in `lethe serve`
 * (src/notify/deliver.ts). Returns how many rows were queued.
 *
 * @example
 * await notify(trx, config.notifications, "erasure.completed", { requestId, subjectHash, status: "completed" });
 */
export async function notify(
  db: Kysely<StateDatabase>,
  cfg: NotificationsConfig,
  event: NotifyEvent,
  data: NotifyData,
  opts: NotifyOptions = {},
): Promise<number> {
  const hooks = cfg.webhooks.filter((w) => w.events === undefined || w.events.includes(event));
  let queued = 0;
  for (const w of hooks) {
    const id = `ntf_${randomUUID()}`;
    const at = (opts.now ?? new Date()).toISOString();
    const body: NotificationBody = { id, event, at, source: "lethe", data };
    queued += await enqueue(db, {
      id,
      event,
      target: w.url,
      secretRef: w.secret,
      body: JSON.stringify(body),
      dedupe: opts.dedupe === undefined ? undefined : dedupeKey(event, opts.dedupe, w.url),
      now: opts.now,
    });
  }
  return queued;
}

export interface OutboxRow {
  id: string;
  event: string;
  target: string;
  /** `env:`/`file:` reference of the signing secret; none: the body is sent unsigned (legacy `alerts.webhook`). */
  secretRef?: string;
  body: string;
  dedupe?: string;
  now?: Date;
}

/** Queues one delivery as it is; 0 when its dedupe key is already queued. */
export async function enqueue(db: Kysely<StateDatabase>, row: OutboxRow): Promise<number> {
  const now = (row.now ?? new Date()).toISOString();
  const r = await db
    .insertInto("notify_outbox")
    .values({
      id: row.id,
      event: row.event,
      target: row.target,
      secret_ref: row.secretRef ?? null,
      body: row.body,
      dedupe: row.dedupe ?? null,
      status: "pending",
      attempts: 0,
      next_at: now,
      created_at: now,
      delivered_at: null,
      last_error: null,
    })
    .onConflict((oc) => oc.column("dedupe").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 1n);
}

function dedupeKey(event: string, key: string, url: string): string {
  return `${event}:${key}:${createHash("sha256").update(url).digest("hex").slice(0, 16)}`;
}

import type { LetheConfig } from "../config/types.js";
import { ANSWERED } from "../core/requests/types.js";
import type { StateHandle } from "../state/open-state.js";
import { notify } from "./notify.js";

/**
 * `erasure.due_soon` (within `notifications.warnBefore` of the deadline) and
 * `erasure.overdue` (past it, not answered) for every open request, each
 * once per request and due date (an extension re-arms both). `lethe serve`
 * calls it from its notifications loop. Returns how many were queued.
 *
 * @example
 * await notifyDeadlines({ config, state }, new Date());
 */
export async function notifyDeadlines(deps: { config: LetheConfig; state: StateHandle }, now: Date): Promise<number> {
  const cfg = deps.config.notifications;
  if (cfg.webhooks.length === 0) return 0;
  const horizon = new Date(now.getTime() + cfg.warnBeforeSeconds * 1000).toISOString();
  const rows = await deps.state.db
    .selectFrom("erasure_requests")
    .select(["id", "subject_hash", "status", "due_at"])
    .where("status", "not in", [...ANSWERED])
    .where("due_at", "<=", horizon)
    .execute();
  let queued = 0;
  for (const r of rows) {
    const overdue = Date.parse(r.due_at) <= now.getTime();
    const data = { requestId: r.id, subjectHash: r.subject_hash, status: r.status, dueAt: r.due_at };
    queued += await notify(deps.state.db, cfg, overdue ? "erasure.overdue" : "erasure.due_soon", data, {
      dedupe: `${r.id}:${r.due_at}`,
      now,
    });
  }
  return queued;
}

/**
 * `store.down`: for the store-health code (`lethe serve`), once per outage.
 * `since` identifies the outage (when the store was first seen down); `error`
 * must be a code such as `ECONNREFUSED`, never a driver's message.
 *
 * @example
 * await notifyStoreDown({ config, state }, "blobs", { since: firstFailure, error: "ECONNREFUSED" });
 */
export async function notifyStoreDown(
  deps: { config: LetheConfig; state: StateHandle },
  store: string,
  outage: { since: Date; error: string },
): Promise<number> {
  return notify(
    deps.state.db,
    deps.config.notifications,
    "store.down",
    { store, since: outage.since.toISOString(), error: outage.error },
    { dedupe: `${store}:${outage.since.toISOString()}` },
  );
}

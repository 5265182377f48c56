import { randomUUID } from "node:crypto";
import type { LetheConfig } from "../config/types.js";
import { deliverDue } from "../notify/deliver.js";
import { enqueue } from "../notify/notify.js";
import type { StateHandle } from "../state/open-state.js";

/**
 * The janitor's `alerts.webhook`: its JSON summary goes through the
 * notifications outbox like every other webhook (unsigned, as before, since
 * `alerts.webhook` has no secret), with one delivery attempt at once so
 * `lethe janitor` can say whether it was sent; a failed one stays queued and
 * `lethe serve` retries it with backoff. The payload carries kinds, counts,
 * datasets, ids, ages and integer keys only: never a raw subject, a
 * non-integer item key or an error text that could hold one.
 *
 * @example
 * await sendAlert({ config, state }, "https://hooks.example/lethe", { source: "lethe", kind: "janitor" });
 */
export interface AlertOutcome {
  sent: boolean;
  status?: number;
  error?: string;
  /** Still queued for a retry by `lethe serve`. */
  queued?: boolean;
}

export async function sendAlert(
  deps: { config: LetheConfig; state: StateHandle },
  url: string,
  payload: unknown,
): Promise<AlertOutcome> {
  const id = `ntf_${randomUUID()}`;
  await enqueue(deps.state.db, { id, event: "janitor.alert", target: url, body: JSON.stringify(payload) });
  const [a] = await deliverDue(deps.state, {
    id,
    policy: deps.config.notifications,
    baseDir: deps.config.baseDir,
  });
  if (!a) return { sent: false, error: "queued", queued: true };
  return a.ok
    ? { sent: true, status: a.status }
    : {
        sent: false,
        ...(a.status !== undefined ? { status: a.status } : {}),
        error: a.status !== undefined ? `webhook answered ${a.status}` : (a.error ?? "failed"),
        queued: a.outcome === "pending",
      };
}

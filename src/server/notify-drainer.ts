import { resolveSecret } from "../config/secrets.js";
import type { Lethe } from "../lethe.js";
import { deliverDue } from "../notify/deliver.js";
import { notifyDeadlines } from "../notify/producers.js";
import { type Clock, systemClock } from "../scheduler/clock.js";
import type { ServerLog } from "./context.js";
import { Drainer } from "./drainer.js";

/** Deadlines move in days: looking once a minute is plenty. */
const DEADLINE_CHECK_MS = 60_000;

/**
 * `lethe serve`'s notifications worker: raises due-soon/overdue warnings for
 * erasure requests and delivers the outbox (src/notify/deliver.ts) with
 * retries and backoff. Every instance runs one; the outbox's row claims keep
 * each delivery to one sender at a time. Webhook secrets are resolved here
 * first, so a missing one stops `serve` at start instead of failing quietly.
 *
 * @example
 * const d = notificationsDrainer(lethe, log); d.start();
 */
export function notificationsDrainer(lethe: Lethe, log: ServerLog, clock: Clock = systemClock): Drainer {
  const { config } = lethe;
  for (const [i, w] of config.notifications.webhooks.entries())
    resolveSecret(w.secret, config.baseDir, `notifications.webhooks.${i}.secret`);
  let lastDeadlineCheck = Number.NEGATIVE_INFINITY;
  return new Drainer({
    name: "notifications",
    log,
    clock,
    pass: async () => {
      const now = clock.now();
      if (now.getTime() - lastDeadlineCheck >= DEADLINE_CHECK_MS) {
        lastDeadlineCheck = now.getTime();
        await notifyDeadlines(lethe, now);
      }
      const attempts = await deliverDue(lethe.state, {
        policy: config.notifications,
        baseDir: config.baseDir,
        now: () => clock.now(),
      });
      for (const a of attempts)
        if (a.outcome === "dead")
          log.error({ notification: a.id, event: a.event, error: a.error }, "notification dead-lettered");
        else if (!a.ok)
          log.warn({ notification: a.id, event: a.event, error: a.error }, "notification delivery failed");
      return attempts.length;
    },
  });
}

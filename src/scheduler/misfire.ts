import type { CronSchedule } from "./cron.js";

/** Fire times of one job that will not run. */
export interface Missed {
  /** How many (capped at {@link COUNT_LIMIT}; `capped` says so). */
  count: number;
  capped: boolean;
  first: Date;
  last: Date;
}

/** What to do about one job's fire times that came due since its cursor. */
export interface DueDecision {
  /** The fire time to run now (the latest one due, if still within grace). */
  run: Date | undefined;
  /** Fire times that will not run: older than grace, or superseded by `run`. */
  missed: Missed | undefined;
}

/** Counting stops here: a 1 s schedule that was down for a year is "at least 10000 missed". */
export const COUNT_LIMIT = 10_000;

/**
 * Misfire policy, as a pure function of the schedule, the job's cursor (the
 * last fire time already claimed, run or recorded as missed) and now:
 * - nothing due → nothing to do;
 * - the latest due fire time runs if `now - it <= graceSeconds`;
 * - every other due fire time is missed (recorded once as `run_missed`),
 *   so a service that was down for a week runs a daily job once, not seven times.
 *
 * @example
 * decideDue(cronSchedule("0 2 * * *"), lastClaim, clock.now(), config.misfireGraceSeconds);
 */
export function decideDue(schedule: CronSchedule, cursor: Date, now: Date, graceSeconds: number): DueDecision {
  const latest = schedule.latest(now);
  if (!latest || latest.getTime() <= cursor.getTime()) return { run: undefined, missed: undefined };
  const inGrace = now.getTime() - latest.getTime() <= graceSeconds * 1000;
  const run = inGrace ? latest : undefined;
  const lastMissed = inGrace ? schedule.latest(new Date(latest.getTime() - 1)) : latest;
  const first = schedule.next(cursor);
  if (!lastMissed || !first || lastMissed.getTime() <= cursor.getTime()) return { run, missed: undefined };
  const counted = schedule.between(cursor, lastMissed, COUNT_LIMIT).length;
  return { run, missed: { count: counted, capped: counted >= COUNT_LIMIT, first, last: lastMissed } };
}

import { Cron } from "croner";

/**
 * A compiled cron pattern, evaluated in UTC. Pure: every answer depends only
 * on the pattern and the instants passed in, never on the wall clock.
 * Five fields (`0 2 * * *`) or six with seconds first (`*\/5 * * * * *`).
 *
 * @example
 * const s = cronSchedule("0 2 * * *");
 * s.next(new Date("2026-01-01T03:00:00Z")); // 2026-01-02T02:00:00.000Z
 */
export interface CronSchedule {
  readonly pattern: string;
  /** The first fire time strictly after `after`. */
  next(after: Date): Date | undefined;
  /** The latest fire time at or before `at`. */
  latest(at: Date): Date | undefined;
  /** Fire times in (after, until], oldest first, at most `limit`. */
  between(after: Date, until: Date, limit: number): Date[];
}

/**
 * A cron pattern (5 or 6 fields, UTC) as a schedule the scheduler and misfire rules can ask.
 *
 * @example
 * cronSchedule("0 3 * * *").next(new Date("2026-01-01T04:00:00Z")); // 2026-01-02T03:00:00.000Z
 */
export function cronSchedule(pattern: string): CronSchedule {
  const cron = new Cron(pattern, { paused: true, timezone: "UTC" });
  const next = (after: Date): Date | undefined => cron.nextRun(after) ?? undefined;
  return {
    pattern,
    next,
    latest(at) {
      // croner's "previous" excludes the reference itself; 1 ms past it includes a fire exactly at `at`.
      const prev = cron.previousRuns(1, new Date(at.getTime() + 1))[0];
      return prev && prev.getTime() <= at.getTime() ? prev : undefined;
    },
    between(after, until, limit) {
      const out: Date[] = [];
      let t = next(after);
      while (t && t.getTime() <= until.getTime() && out.length < limit) {
        out.push(t);
        t = next(t);
      }
      return out;
    },
  };
}

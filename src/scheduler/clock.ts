/**
 * Time as the scheduler sees it. Injected so cron matching, misfire
 * decisions and lease expiry are testable without waiting.
 *
 * @example
 * const clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
 * clock.advance(5_000);
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock (Date and timers); what lethe uses unless a test injects a {@link ManualClock}.
 *
 * @example
 * await systemClock.sleep(1_000, AbortSignal.timeout(100)); // resolves early, without throwing
 */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * A clock that moves only when told to; sleeping waiters wake when their time is reached.
 *
 * @example
 * const clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
 * const woke = clock.sleep(5_000);
 * clock.advance(5_000); // `woke` resolves now, no wall-clock wait
 */
export class ManualClock implements Clock {
  private ms: number;
  private waiters: { at: number; resolve: () => void }[] = [];

  constructor(start: Date) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const waiter = { at: this.ms + ms, resolve };
      this.waiters.push(waiter);
      const abort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /** How many sleepers are waiting: a test knows a loop is idle when it sleeps, without waiting on wall time. */
  get sleepers(): number {
    return this.waiters.length;
  }

  advance(ms: number): void {
    this.set(new Date(this.ms + ms));
  }

  set(to: Date): void {
    this.ms = to.getTime();
    const due = this.waiters.filter((w) => w.at <= this.ms);
    this.waiters = this.waiters.filter((w) => w.at > this.ms);
    for (const w of due) w.resolve();
  }
}

import { isLetheError } from "../core/errors.js";
import type { Executor } from "../executor/executor.js";
import type { StateHandle } from "../state/open-state.js";
import { Claims } from "./claims.js";
import { type Clock, systemClock } from "./clock.js";
import type { Job, JobOutcome } from "./job.js";
import { LeaderLease } from "./lease.js";
import { decideDue } from "./misfire.js";

/** Structured log calls the scheduler makes (pino-compatible). */
export interface SchedulerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  state: StateHandle;
  executor: Executor;
  jobs: Job[];
  /** `misfireGrace` in seconds. */
  graceSeconds: number;
  /** Unique id of this instance. */
  instance: string;
  leaseTtlMs: number;
  clock?: Clock;
  /** Longest sleep between passes (default 1000 ms); passes also wake for the next fire time. */
  pollMs?: number;
  log?: SchedulerLog;
  onRunFinished?: (job: string, outcome: JobOutcome, seconds: number) => void;
  /** Where the lease is renewed (default `state`): a connection no long read or batch can hold up. */
  leaseState?: StateHandle;
}

const REFUSALS = new Set(["SAFETY_LIMIT", "HOLD_ACTIVE", "STALE_PLAN", "CONFLICT"]);
const quiet: SchedulerLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Runs every job on its cron schedule, exactly once per fire time across all
 * instances sharing the state: only the lease holder works, every run is
 * claimed first (unique (job, fire time), fenced by the lease epoch), runs a
 * crashed leader left behind are closed and run again by the next leader, and
 * missed fire times follow the misfire policy in {@link decideDue}.
 *
 * @example
 * const s = new Scheduler({ state, executor, jobs, graceSeconds: 3600, instance: "a", leaseTtlMs: 15_000 });
 * s.start();
 * process.once("SIGTERM", () => s.stop());
 */
export class Scheduler {
  readonly lease: LeaderLease;
  readonly claims: Claims;
  private readonly clock: Clock;
  private readonly log: SchedulerLog;
  private readonly jobs: Map<string, Job>;
  private readonly cursors = new Map<string, Date>();
  private readonly wake = new AbortController();
  private readonly stopBeat = new AbortController();
  private stopping = false;
  private termEpoch: number | undefined;
  private loops: Promise<void>[] = [];
  /** Runs in progress, one chain per job: a long run of one job never holds up another's ticks. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? quiet;
    this.jobs = new Map(opts.jobs.map((j) => [j.name, j]));
    this.lease = new LeaderLease(opts.leaseState ?? opts.state, {
      name: "scheduler",
      holder: opts.instance,
      ttlMs: opts.leaseTtlMs,
      clock: this.clock,
    });
    this.claims = new Claims(opts.state, this.lease);
  }

  start(): void {
    this.loops = [this.mainLoop(), this.heartbeatLoop()];
  }

  /** Ends after the current batch of every run in progress, records them, and gives the lease up. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await this.loops[0];
    await this.settled(); // the lease keeps beating until the last run has recorded its batch
    this.stopBeat.abort();
    await Promise.all(this.loops);
    await this.lease
      .release()
      .catch((err: Error) => this.log.warn({ err: err.message }, "could not release the lease"));
  }

  isStopping(): boolean {
    return this.stopping;
  }

  /** Each job's schedule and next fire time after now. */
  nextFireTimes(now = this.clock.now()): { job: string; schedule: string; next: Date | undefined }[] {
    return [...this.jobs.values()].map((j) => ({
      job: j.name,
      schedule: j.schedule.pattern,
      next: j.schedule.next(now),
    }));
  }

  /** Jobs with a run in progress. */
  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves when no run is in progress. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /**
   * One pass: keep or take the lease; as leader, resume abandoned runs and
   * start what is due. Jobs run side by side; a job still running is left to
   * finish (its overrun ticks are coalesced when it does). By default the pass
   * waits for the runs it started; the service's loop does not.
   */
  async tick(opts: { wait?: boolean } = {}): Promise<void> {
    await this.pass();
    if (opts.wait !== false) await this.settled();
  }

  private async pass(): Promise<void> {
    if (this.stopping) return;
    if (!this.lease.isLeader() && !(await this.lease.tryAcquire())) {
      this.termEpoch = undefined;
      return;
    }
    const epoch = this.lease.epoch as number;
    if (this.termEpoch !== epoch) {
      this.termEpoch = epoch;
      this.cursors.clear();
      this.log.info({ instance: this.opts.instance, epoch }, "became scheduler leader");
      await this.resume(epoch);
    }
    for (const job of this.jobs.values()) {
      if (this.shouldStop(epoch)) return;
      if (this.running.has(job.name)) continue;
      // A job that runs alone (the janitor would report, and delete, what a running retention run is about
      // to delete) waits until nothing else runs, and while it runs the others wait; their ticks stay due.
      if (job.runsAlone ? this.running.size > 0 : [...this.running.keys()].some((n) => this.jobs.get(n)?.runsAlone))
        continue;
      await this.handle(job, epoch);
    }
  }

  /** Starts a run after any run of the same job still in progress; never rejects. */
  private launch(job: Job, fireTime: Date, epoch: number): void {
    const before = this.running.get(job.name) ?? Promise.resolve();
    const run: Promise<void> = before
      .then(() => this.execute(job, fireTime, epoch))
      .catch((err: Error) =>
        this.log.error({ job: job.name, fireTime: fireTime.toISOString(), err: err.message }, "scheduled run failed"),
      )
      .finally(() => {
        if (this.running.get(job.name) === run) this.running.delete(job.name);
      });
    this.running.set(job.name, run);
  }

  private shouldStop(epoch: number): boolean {
    return this.stopping || !this.lease.isLeader() || this.lease.epoch !== epoch;
  }

  private async handle(job: Job, epoch: number): Promise<void> {
    const now = this.clock.now();
    let cursor = this.cursors.get(job.name) ?? (await this.claims.cursor(job.name));
    const due = decideDue(job.schedule, cursor, now, this.opts.graceSeconds);
    if (due.missed) {
      const why = due.run
        ? `superseded by the run for ${due.run.toISOString()}`
        : `not run within misfireGrace (${this.opts.graceSeconds}s)`;
      const recorded = await this.claims.recordMissed(
        job.recordMissed ? this.opts.executor : undefined,
        job.name,
        due.missed,
        why,
        job.dataset,
      );
      if (recorded)
        this.log.warn({ job: job.name, count: due.missed.count, last: due.missed.last.toISOString() }, "run missed");
      cursor = due.missed.last;
    }
    if (due.run) {
      if (await this.claims.claim(job.name, due.run)) this.launch(job, due.run, epoch);
      cursor = due.run;
    }
    this.cursors.set(job.name, cursor);
  }

  private async resume(epoch: number): Promise<void> {
    for (const c of await this.claims.resumable()) {
      if (this.shouldStop(epoch)) return;
      // Our own run from a lost term: it stops after its batch (its epoch is stale); take over after that.
      await this.running.get(c.job);
      if (!(await this.claims.takeOver(c))) continue;
      if (c.runId) {
        const why = `instance ${c.instance} stopped before finishing it; resumed by ${this.opts.instance}`;
        await this.opts.executor.closeRun(c.runId, "interrupted", why);
      }
      const job = this.jobs.get(c.job);
      this.log.info(
        { job: c.job, fireTime: c.fireTime.toISOString(), from: c.instance },
        "resuming an interrupted run",
      );
      if (job) this.launch(job, c.fireTime, epoch);
      else await this.claims.finish(c.job, c.fireTime, epoch, "failed", undefined, "job no longer configured");
    }
  }

  private async execute(job: Job, fireTime: Date, epoch: number): Promise<void> {
    const started = performance.now();
    let outcome: JobOutcome;
    try {
      outcome = await job.run({
        fireTime,
        shouldStop: () => this.shouldStop(epoch),
        onRunStarted: (runId) => this.claims.setRunId(job.name, fireTime, epoch, runId),
      });
    } catch (err) {
      const refused = isLetheError(err) && REFUSALS.has(err.code);
      outcome = { status: refused ? "refused" : "failed", detail: (err as Error).message.slice(0, 500) };
    }
    const seconds = (performance.now() - started) / 1000;
    await this.claims.finish(job.name, fireTime, epoch, outcome.status, outcome.runId, outcome.detail);
    const fields = {
      job: job.name,
      fireTime: fireTime.toISOString(),
      status: outcome.status,
      runId: outcome.runId,
      seconds,
    };
    if (outcome.status === "failed" || outcome.status === "refused")
      this.log.error({ ...fields, detail: outcome.detail }, "scheduled run did not complete");
    else this.log.info(fields, "scheduled run finished");
    this.opts.onRunFinished?.(job.name, outcome, seconds);
  }

  private sleepMs(): number {
    const poll = this.opts.pollMs ?? 1000;
    if (!this.lease.isLeader()) return Math.min(poll, this.opts.leaseTtlMs / 3);
    const now = this.clock.now().getTime();
    let ms = poll;
    for (const { next } of this.nextFireTimes()) if (next) ms = Math.min(ms, next.getTime() - now + 5);
    return Math.max(10, ms);
  }

  private async mainLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.tick({ wait: false });
      } catch (err) {
        this.log.error({ err: (err as Error).message }, "scheduler pass failed");
      }
      if (this.stopping) break;
      await this.clock.sleep(this.sleepMs(), this.wake.signal);
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopBeat.signal.aborted) {
      await this.clock.sleep(this.opts.leaseTtlMs / 3, this.stopBeat.signal);
      if (this.stopBeat.signal.aborted || this.lease.epoch === undefined) continue;
      try {
        if (!(await this.lease.renew())) this.log.warn({ instance: this.opts.instance }, "lost the scheduler lease");
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "lease renewal failed");
      }
    }
  }
}

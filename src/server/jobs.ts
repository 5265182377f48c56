import { isLetheError } from "../core/errors.js";
import type { Lethe } from "../lethe.js";
import { cronSchedule } from "../scheduler/cron.js";
import type { Job } from "../scheduler/job.js";
import { runVerify } from "./run-verify.js";

/** Ledger verification runs on its own fixed schedule; a missed one is not worth a ledger entry. */
export const VERIFY_SCHEDULE = "*/10 * * * *";
/** Erasure requests are drained within seconds; this cluster-wide pass is the backstop. */
export const REQUESTS_SCHEDULE = "* * * * *";

export interface JobHooks {
  /** After any job changed data (dashboard caches drop their numbers). */
  changed?: () => void;
}

/**
 * A retention job per dataset on its `schedule` (the global `schedule` unless
 * the dataset sets its own). Each run is `lethe.apply({ dataset })`: the same
 * validation, safety limit, holds and ledger as `lethe apply`, ending after
 * the current batch when the scheduler asks it to.
 */
export function retentionJob(lethe: Lethe, dataset: string, pattern: string, hooks: JobHooks = {}): Job {
  return {
    name: `retention:${dataset}`,
    dataset,
    schedule: cronSchedule(pattern),
    recordMissed: true,
    async run(ctx) {
      const r = await lethe.apply({ dataset, onRunStarted: ctx.onRunStarted, shouldStop: ctx.shouldStop });
      hooks.changed?.();
      const d = r.datasets[0];
      const detail = d
        ? `expired ${d.expired}, deleted ${d.deleted}, held ${d.held}, failed ${d.failed}`
        : "nothing to do";
      const status = r.interrupted ? "interrupted" : (d?.failed ?? 0) > 0 ? "partial" : "ok";
      return { status, runId: r.runId, detail };
    },
  };
}

/** Every this many scheduled verifications, a full pass (with the 10-minute schedule: once a day). */
export const FULL_VERIFY_EVERY = 144;

/**
 * Verifies the ledger in a worker thread and publishes the result (dashboard,
 * `lethe_ledger_verification_ok`): the entries since the last verification,
 * and a full pass at the service's first run and every {@link FULL_VERIFY_EVERY}th.
 * Then signs a checkpoint over what verified, so entries recorded outside runs
 * are covered within the schedule.
 */
export function verifyJob(lethe: Lethe): Job {
  let runs = 0;
  return {
    name: "ledger-verify",
    schedule: cronSchedule(VERIFY_SCHEDULE),
    recordMissed: false,
    async run() {
      const full = runs++ % FULL_VERIFY_EVERY === 0;
      // A full pass is refused while a GET's incremental one runs: this run then shares that one.
      const v = await runVerify(lethe, { full, record: true }).catch((err: unknown) =>
        isLetheError(err) && err.code === "RATE_LIMITED" ? runVerify(lethe, { record: true }) : Promise.reject(err),
      );
      if (!v.ok) return { status: "failed", detail: `ledger verification failed at ${v.firstBad}: ${v.reason}` };
      const cp = await lethe.audit.checkpoint();
      return {
        status: "ok",
        detail: `${v.entries} entries verified (${v.read} read${full ? ", full pass" : ""}); checkpoint at ${cp.size}`,
      };
    },
  };
}

/** The janitor on `janitor.schedule`: finds what escaped, fixes it through the one deletion path, alerts. */
export function janitorJob(lethe: Lethe, pattern: string, hooks: JobHooks = {}): Job {
  return {
    name: "janitor",
    // It looks for what retention missed: while a retention run is under way that is everything it has not reached yet.
    runsAlone: true,
    schedule: cronSchedule(pattern),
    recordMissed: true,
    async run(ctx) {
      const r = await lethe.janitor({ apply: true, onRunStarted: ctx.onRunStarted });
      hooks.changed?.();
      return { status: "ok", runId: r.runId, detail: `${r.findings.length} finding(s)` };
    },
  };
}

/** Processes every open erasure request (normally the drainer got there first). */
export function requestsJob(lethe: Lethe, hooks: JobHooks = {}): Job {
  return {
    name: "erasure-requests",
    schedule: cronSchedule(REQUESTS_SCHEDULE),
    recordMissed: false,
    async run() {
      const done = await lethe.requests.process();
      if (done.length > 0) hooks.changed?.();
      return { status: "ok", detail: `${done.length} request(s) processed` };
    },
  };
}

/**
 * Every scheduled job of a service: retention per dataset (datasets that
 * never expire have nothing to schedule), the janitor (when
 * `janitor.schedule` is set), erasure request processing and ledger verification.
 *
 * @example
 * const scheduler = new Scheduler({ ...opts, jobs: buildJobs(lethe) });
 */
export function buildJobs(lethe: Lethe, hooks: JobHooks = {}): Job[] {
  const jobs: Job[] = [];
  for (const ds of lethe.config.datasets.values())
    if (ds.retention.kind !== "never") jobs.push(retentionJob(lethe, ds.name, ds.schedule, hooks));
  if (lethe.config.janitor.schedule) jobs.push(janitorJob(lethe, lethe.config.janitor.schedule, hooks));
  jobs.push(requestsJob(lethe, hooks), verifyJob(lethe));
  return jobs;
}

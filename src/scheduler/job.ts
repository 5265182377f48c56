import type { ClaimStatus } from "./claims.js";
import type { CronSchedule } from "./cron.js";

/** What a scheduled job gets while it runs. */
export interface JobRunContext {
  /** The scheduled instant this run is for. */
  fireTime: Date;
  /** True once the run should end after its current batch (shutdown, or the lease was lost). */
  shouldStop(): boolean;
  /** Tell the scheduler the run id as soon as it exists, so a takeover can close it. */
  onRunStarted(runId: string): Promise<void>;
}

export interface JobOutcome {
  status: Exclude<ClaimStatus, "running" | "missed">;
  runId?: string;
  detail?: string;
}

/**
 * A unit of scheduled work: a dataset's retention run, the janitor, erasure
 * request processing, ledger verification.
 *
 * @example
 * const job: Job = { name: "ledger-verify", schedule: cronSchedule("*\/10 * * * *"), recordMissed: false, run: verify };
 */
export interface Job {
  name: string;
  /** The dataset a retention job serves: its `run_missed` entries carry it. */
  dataset?: string;
  schedule: CronSchedule;
  /** Never runs side by side with another job (the janitor); see Scheduler. */
  runsAlone?: boolean;
  /** Put fire times that will not run on the ledger as `run_missed` (retention runs: yes). */
  recordMissed: boolean;
  run(ctx: JobRunContext): Promise<JobOutcome>;
}

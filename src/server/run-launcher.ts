import type { ApplyResult } from "../core/retention.js";
import type { Lethe } from "../lethe.js";

export interface LaunchOptions {
  dataset?: string;
  force?: boolean;
}

/**
 * Retention runs triggered over HTTP. `start` resolves with the run id as
 * soon as the run exists (after validation and the safety limit, which
 * reject instead), and the run continues in the background; on shutdown
 * runs stop after their current batch and `drain` waits for them.
 *
 * @example
 * const runId = await launcher.start({ dataset: "inference_logs" });
 */
export class RunLauncher {
  private readonly active = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly lethe: Lethe,
    private readonly onFinished: (r: ApplyResult | Error, seconds: number) => void = () => undefined,
  ) {}

  start(opts: LaunchOptions): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let started = false;
      const t0 = performance.now();
      const run = this.lethe
        .apply({
          ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
          force: opts.force === true,
          onRunStarted: (runId) => {
            started = true;
            resolve(runId);
          },
          shouldStop: () => this.stopping,
        })
        .then(
          (r) => this.onFinished(r, (performance.now() - t0) / 1000),
          (err: Error) => {
            if (!started) reject(err);
            else this.onFinished(err, (performance.now() - t0) / 1000);
          },
        )
        .finally(() => this.active.delete(run));
      this.active.add(run);
    });
  }

  /** Asks running runs to stop after their current batch and waits until they have recorded it. */
  async drain(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.active]);
  }
}

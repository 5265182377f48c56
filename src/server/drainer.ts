import { type Clock, systemClock } from "../scheduler/clock.js";
import type { ServerLog } from "./context.js";

export interface DrainerOptions {
  name: string;
  /** One pass over the queue; returns how many items it handled (0: the queue looked empty). */
  pass: () => Promise<number>;
  /** Poll interval when nothing wakes it (work accepted by another instance or the CLI). */
  pollMs?: number;
  /** Milliseconds to wait before the next pass (0: go on at once), e.g. to let a burst of intake pass first. */
  pace?: () => number;
  log: ServerLog;
  /** Time for polls and pacing (tests inject a ManualClock). */
  clock?: Clock;
}

/**
 * A background worker that drains one durable queue (inference-complete
 * events, erasure requests) within moments of an accept: `notify()` wakes it
 * at once, a poll picks up work other instances or the CLI accepted, and
 * passes never overlap, so a burst of notifies costs one pass, not thousands.
 * Every instance runs one; the queues' own claims keep each item to one worker.
 *
 * @example
 * const d = new Drainer({ name: "events", pass: async () => (await lethe.events.process()).processed, log });
 * d.start(); d.notify();
 */
export class Drainer {
  private pending = true;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  private readonly clock: Clock;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: DrainerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    this.loop ??= this.run();
  }

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Lets the current pass finish, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.pending) {
        this.pending = false;
        try {
          // A full pass may have left more behind: look again at once.
          if ((await this.opts.pass()) > 0) this.pending = true;
        } catch (err) {
          this.opts.log.error({ queue: this.opts.name, err: (err as Error).message }, "drainer pass failed");
        }
        // Yield to the event loop so HTTP requests are served between passes (longer while intake is hot).
        const wait = this.opts.pace?.() ?? 0;
        if (wait > 0)
          await this.clock.sleep(wait, this.stopping.signal); // a notify does not cut pacing short
        else await new Promise((r) => setImmediate(r));
        continue;
      }
      const woken = new AbortController();
      this.wake = () => woken.abort();
      await this.clock.sleep(this.opts.pollMs ?? 1000, woken.signal);
      this.wake = undefined;
      this.pending = true;
    }
  }
}

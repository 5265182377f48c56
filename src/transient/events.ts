import type { DataMap } from "../core/data-map.js";
import { LetheError } from "../core/errors.js";
import type { Holds } from "../core/holds.js";
import { canonicalKey } from "../core/keys/canonical-key.js";
import { safeReason } from "../core/safe-reason.js";
import type { Executor } from "../executor/executor.js";
import type { StateHandle } from "../state/open-state.js";
import { processEvent } from "./event-processor.js";
import {
  type EnqueueResult,
  EventQueue,
  type EventRecord,
  type EventStatus,
  type QueueOptions,
} from "./event-queue.js";
import { type InferenceComplete, inferenceCompleteSchema } from "./event-schema.js";

export interface EventsDeps {
  state: StateHandle;
  ledger: Executor;
  map: DataMap;
  holds: Holds;
  masterKey: Buffer;
  logger: { warn(msg: string): void };
  /** Artifacts one event may list (`server.maxEventArtifacts`). */
  maxArtifacts: number;
}

export interface EventsOptions extends QueueOptions {
  /** Retry failed deletions on a timer inside this process (default true). */
  autoRetry?: boolean;
}

export interface ProcessSummary {
  processed: number;
  done: number;
  retrying: number;
  failed: number;
}

export interface CompleteResult extends EventRecord {
  duplicate: boolean;
}

/**
 * Transport-agnostic inference-complete events: `enqueue` (durable, then
 * acknowledge: what `POST /v1/events/inference-complete` answers 202 on),
 * `process` (due events, safe to call from several instances), `complete`
 * (enqueue and process this one at once), `depth` (queue gauges).
 *
 * @example
 * const { id } = await lethe.events.enqueue({ requestId, artifacts });  // durable now
 * lethe.events.kick();                                                  // process in the background
 */
export class Events {
  readonly queue: EventQueue;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private poller: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly autoRetry: boolean;

  constructor(
    private readonly deps: EventsDeps,
    opts: EventsOptions = {},
  ) {
    this.queue = new EventQueue(deps.state, deps.ledger, deps.masterKey, opts);
    this.autoRetry = opts.autoRetry ?? true;
  }

  /** Validates shape (unknown fields rejected) and that every dataset exists and can take explicit deletes. */
  validate(input: unknown): InferenceComplete {
    const r = inferenceCompleteSchema.safeParse(input);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new LetheError("VALIDATION", `${issue?.path.join(".") || "event"}: ${issue?.message ?? "invalid"}`, {
        issues: r.error.issues,
      });
    }
    if (r.data.artifacts.length > this.deps.maxArtifacts)
      throw new LetheError(
        "VALIDATION",
        `artifacts: ${r.data.artifacts.length} artifacts in one event; at most ${this.deps.maxArtifacts} (server.maxEventArtifacts)`,
      );
    r.data.artifacts.forEach((a, i) => {
      const ds = this.deps.map.datasets.get(a.dataset);
      // Its store is down: intake goes on (checked against the config only); processing retries until it is back.
      if (!ds && this.deps.map.unavailable().some((u) => u.dataset === a.dataset)) {
        if (this.deps.map.known(a.dataset).files)
          throw new LetheError(
            "VALIDATION",
            `artifacts.${i}.dataset: "${a.dataset}" has row-linked files; events delete fs/s3 items and plain rows only`,
          );
        if (!this.deps.map.known(a.dataset).events) throw notOptedIn(i, a.dataset);
        a.key = canonicalKey(this.deps.map.known(a.dataset), a.key, `artifacts.${i}.key`);
        return;
      }
      if (!ds) throw new LetheError("VALIDATION", `artifacts.${i}.dataset: unknown dataset "${a.dataset}"`);
      // Deleting a row here would orphan its linked file: such datasets go through retention or erasure.
      if (ds.capabilities.linkedFiles)
        throw new LetheError(
          "VALIDATION",
          `artifacts.${i}.dataset: "${a.dataset}" has row-linked files; events delete fs/s3 items and plain rows only`,
        );
      // Opt-in per dataset, checked before anything is stored: an events token must not reach other datasets.
      if (!ds.config.events) throw notOptedIn(i, a.dataset);
      // Holds, subject patterns and the ledger see one spelling per item: an odd one is refused, not resolved.
      a.key = canonicalKey(ds.config, a.key, `artifacts.${i}.key`);
      // The key itself is not echoed: it may carry a subject id.
      if (ds.ownsKey && !ds.ownsKey(a.key))
        throw new LetheError(
          "VALIDATION",
          `artifacts.${i}.key: not an item of dataset "${a.dataset}" (${outsideWhy(ds.config.storeKind)})`,
        );
    });
    return r.data;
  }

  /** Stores the event durably; resolves only once it would survive a crash. Idempotent per requestId. */
  async enqueue(input: unknown): Promise<EnqueueResult> {
    this.assertOpen();
    return this.queue.enqueue(this.validate(input));
  }

  /** Enqueue and process at once; a failed deletion is retried with backoff in the background. */
  async complete(input: unknown): Promise<CompleteResult> {
    const e = await this.enqueue(input);
    if (!e.duplicate || e.status === "pending") await this.track(this.processOne(e.id));
    const rec = await this.queue.get(e.id);
    if (!rec) throw new LetheError("STATE_ERROR", `event ${e.id} vanished`);
    return { ...rec, duplicate: e.duplicate };
  }

  /** Processes every due event (up to `limit`); safe to run concurrently across instances. */
  async process(opts: { limit?: number } = {}): Promise<ProcessSummary> {
    this.assertOpen();
    return this.track(this.processDue(opts.limit ?? 1000));
  }

  /** Starts processing due events in the background without waiting. */
  kick(): void {
    if (this.closed) return;
    this.track(this.processDue(1000)).catch((err: Error) =>
      this.deps.logger.warn(`events: background processing failed: ${err.message}`),
    );
  }

  /** Polls for due events every `intervalMs` (for long-running services). */
  start(intervalMs = 5000): void {
    this.stopPoller();
    this.poller = setInterval(() => this.kick(), intervalMs);
    this.poller.unref();
    this.kick();
  }

  depth(): Promise<Record<EventStatus, number>> {
    return this.queue.depth();
  }

  get(id: string): Promise<EventRecord | undefined> {
    return this.queue.get(id);
  }

  getByRequest(requestId: string): Promise<EventRecord | undefined> {
    return this.queue.getByRequest(requestId);
  }

  /** Stops timers and waits for in-flight processing (lethe.close()). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopPoller();
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async processDue(limit: number): Promise<ProcessSummary> {
    const sum: ProcessSummary = { processed: 0, done: 0, retrying: 0, failed: 0 };
    for (const id of await this.queue.due(limit)) {
      if (this.closed) break;
      const status = await this.processOne(id);
      if (status === undefined) continue;
      sum.processed++;
      if (status === "done") sum.done++;
      else if (status === "failed") sum.failed++;
      else sum.retrying++;
    }
    await this.reschedule();
    return sum;
  }

  /** One attempt at one event; undefined when another worker holds it or it is not due. */
  private async processOne(id: string): Promise<EventStatus | undefined> {
    const ev = await this.queue.claim(id);
    if (!ev) return undefined;
    const { ledger, map, holds } = this.deps;
    const { result, retry } = await processEvent({ executor: ledger, map, holds: () => holds.active() }, ev).catch(
      (err: Error) => ({
        result: { datasets: [], failures: [`processing error: ${safeReason(err, 280)}`] },
        retry: true,
      }),
    );
    if (result.failures.length === 0) {
      await this.queue.succeed(ev.id, result);
      return "done";
    }
    // Only refusals for what the items are (links, directories) left: another attempt would just record them again.
    const status = await this.queue.fail(ev, result.failures.join("; "), result, retry);
    if (status === "failed")
      this.deps.logger.warn(
        `events: event ${ev.id} failed ${retry ? `after ${ev.attempts} attempts` : "(refused items, not retried)"}; the janitor reports it`,
      );
    else await this.reschedule();
    return status;
  }

  /** Keeps one timer armed for the earliest pending retry. */
  private async reschedule(): Promise<void> {
    if (!this.autoRetry || this.closed) return;
    const at = await this.queue.nextDue();
    if (at === undefined || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private stopPoller(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new LetheError("CONFLICT", "lethe is closed");
  }
}

/** Event-driven deletion is opt-in per dataset: an events:write token must not reach any other dataset. */
function notOptedIn(i: number, dataset: string): LetheError {
  return new LetheError(
    "VALIDATION",
    `artifacts.${i}.dataset: "${dataset}" does not take event-driven deletion (datasets.${dataset}.events is not true)`,
  );
}

/** Why a key a dataset does not own is outside it, in the terms of its store's configuration. */
function outsideWhy(kind: string): string {
  return kind === "redis"
    ? "not matched by its key pattern"
    : "outside its root or prefix, or not matched by its include/exclude globs";
}

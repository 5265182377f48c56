import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Lethe } from "../lethe.js";
import { outboxCounts } from "../notify/deliver.js";
import type { DatasetStats } from "./dataset-stats.js";
import { LedgerTally, type Tallied } from "./ledger-tally.js";
import { lastVerification, type VerificationStatus } from "./status-store.js";
import { TtlCache } from "./ttl-cache.js";

export interface MetricsSource {
  lethe: Lethe;
  stats: TtlCache<DatasetStats[]>;
  isLeader(): boolean;
  /** Erasure requests by status and how many are overdue. */
  requests?(): Promise<{ byStatus: Map<string, number>; overdue: number }>;
  /** Inference-complete events accepted but not yet processed. */
  queueDepth?(): Promise<number>;
}

interface Snapshot {
  ledgerSize: number;
  verification: VerificationStatus | undefined;
  requests: { byStatus: Map<string, number>; overdue: number } | undefined;
  queueDepth: number | undefined;
}

/**
 * Prometheus metrics, all named `lethe_…`. Item outcomes and janitor
 * findings are tallied from the shared ledger (identical on every instance:
 * aggregate with max, not sum); run durations and HTTP figures are this
 * instance's own. Anything that queries is refreshed at most once a second.
 *
 * @example
 * const metrics = new Metrics(source); reply.type(metrics.contentType).send(await metrics.render());
 */
export class Metrics {
  readonly registry = new Registry();
  readonly runDuration: Histogram<"job" | "status">;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpDuration: Histogram<"route">;
  readonly eventsAccepted: Counter;
  private readonly tally: LedgerTally;
  private readonly snapshot: TtlCache<Snapshot>;

  constructor(private readonly src: MetricsSource) {
    const register = [this.registry];
    this.tally = new LedgerTally(src.lethe.state);
    this.snapshot = new TtlCache(1000, () => this.read());
    collectDefaultMetrics({ register: this.registry, prefix: "lethe_" });
    const fromTally = (name: string, help: string, action: Tallied) => {
      const tally = this.tally;
      const snap = this.snapshot;
      new Counter({
        name,
        help,
        labelNames: ["dataset"],
        registers: register,
        async collect() {
          await snap.get();
          this.reset();
          for (const [dataset, n] of tally.get(action)) this.inc({ dataset }, n);
        },
      });
    };
    fromTally("lethe_items_deleted_total", "Items deleted, per dataset (from the ledger)", "deleted");
    fromTally("lethe_items_shredded_total", "Items shredded, per dataset (from the ledger)", "shredded");
    fromTally("lethe_items_held_total", "Items kept back by a legal hold, per dataset (from the ledger)", "held");
    fromTally("lethe_items_failed_total", "Items whose deletion failed, per dataset (from the ledger)", "failed");
    fromTally("lethe_janitor_findings_total", "Janitor findings, per dataset (from the ledger)", "janitor_found");
    fromTally(
      "lethe_items_ttl_set_total",
      "Redis keys whose TTL a run set or lowered to the retention, per dataset (from the ledger)",
      "ttl_set",
    );
    fromTally("lethe_runs_missed_total", "Scheduled runs recorded as missed (from the ledger)", "run_missed");

    this.runDuration = new Histogram({
      name: "lethe_run_duration_seconds",
      help: "Duration of runs executed by this instance",
      labelNames: ["job", "status"],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: register,
    });
    this.httpRequests = new Counter({
      name: "lethe_http_requests_total",
      help: "HTTP requests answered by this instance, by route pattern",
      labelNames: ["method", "route", "status"],
      registers: register,
    });
    this.httpDuration = new Histogram({
      name: "lethe_http_request_duration_seconds",
      help: "HTTP request latency on this instance, by route pattern",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: register,
    });
    this.eventsAccepted = new Counter({
      name: "lethe_events_accepted_total",
      help: "Inference-complete events durably stored and acknowledged by this instance (duplicates not counted)",
      registers: register,
    });
    this.gauges();
  }

  private gauges(): void {
    const register = [this.registry];
    const snap = this.snapshot;
    const src = this.src;
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      set: (g: Gauge<string>, s: Snapshot) => Promise<void> | void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: register,
        async collect() {
          const s = await snap.get();
          this.reset();
          await set(this, s);
        },
      });
    gauge(
      "lethe_retention_lag_seconds",
      "Seconds since the oldest expired item that no legal hold keeps expired (0: nothing overdue)",
      ["dataset"],
      async (g) => {
        for (const d of await src.stats.get()) g.set({ dataset: d.name }, d.lagSeconds);
      },
    );
    gauge("lethe_dataset_items", "Items in each dataset", ["dataset"], async (g) => {
      for (const d of await src.stats.get()) g.set({ dataset: d.name }, d.total);
    });
    gauge(
      "lethe_dataset_expired_items",
      "Items past retention now that no legal hold keeps",
      ["dataset"],
      async (g) => {
        for (const d of await src.stats.get()) g.set({ dataset: d.name }, d.expired);
      },
    );
    gauge("lethe_dataset_held_items", "Items past retention now that a legal hold keeps", ["dataset"], async (g) => {
      for (const d of await src.stats.get()) g.set({ dataset: d.name }, d.held);
    });
    gauge("lethe_ledger_entries", "Entries in the audit ledger", [], (g, s) => g.set(s.ledgerSize));
    gauge(
      "lethe_ledger_verification_ok",
      "1 if the last ledger verification passed, 0 if it failed, -1 if none yet",
      [],
      (g, s) => g.set(s.verification ? (s.verification.ok ? 1 : 0) : -1),
    );
    gauge(
      "lethe_ledger_verification_timestamp_seconds",
      "When the ledger was last verified (epoch seconds)",
      [],
      (g, s) => {
        if (s.verification) g.set(Date.parse(s.verification.at) / 1000);
      },
    );
    gauge("lethe_ledger_verified_entries", "Entries covered by the last ledger verification", [], (g, s) => {
      if (s.verification) g.set(s.verification.entries);
    });
    gauge("lethe_erasure_requests", "Erasure requests by status", ["status"], (g, s) => {
      for (const [status, n] of s.requests?.byStatus ?? []) g.set({ status }, n);
    });
    gauge("lethe_erasure_requests_overdue", "Erasure requests past their due date and not completed", [], (g, s) => {
      if (s.requests) g.set(s.requests.overdue);
    });
    gauge("lethe_event_queue_depth", "Inference-complete events accepted but not yet processed", [], (g, s) => {
      if (s.queueDepth !== undefined) g.set(s.queueDepth);
    });
    gauge(
      "lethe_notifications",
      "Webhook notifications in the outbox by status: pending (incl. retrying), delivered (kept 7 days), dead (gave up)",
      ["status"],
      async (g) => {
        const counts = await outboxCounts(src.lethe.state);
        for (const status of ["pending", "delivered", "dead"]) g.set({ status }, counts.get(status) ?? 0);
      },
    );
    gauge("lethe_scheduler_leader", "1 if this instance holds the scheduler lease", [], (g) =>
      g.set(src.isLeader() ? 1 : 0),
    );
  }

  private async read(): Promise<Snapshot> {
    const [ledgerSize, verification, requests, queueDepth] = await Promise.all([
      this.tally.refresh(),
      lastVerification(this.src.lethe.state),
      this.src.requests?.(),
      this.src.queueDepth?.(),
    ]);
    return { ledgerSize, verification, requests, queueDepth };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}

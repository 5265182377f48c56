import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { FastifyInstance } from "fastify";
import type { Lethe } from "../lethe.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { openLeaseConnection } from "../state/lease-connection.js";
import type { StateHandle } from "../state/open-state.js";
import { buildApp } from "./app.js";
import type { ServerLog } from "./context.js";
import { Drainer } from "./drainer.js";
import { IntakeRate } from "./intake-rate.js";
import { buildJobs } from "./jobs.js";
import { notificationsDrainer } from "./notify-drainer.js";
import { reconnectDownStores } from "./store-health.js";

/** Above this many accepted events per second the event drainer works in small, spaced passes. */
const HOT_INTAKE = 200;

export interface ServiceOptions {
  log: ServerLog;
  port?: number;
  host?: string;
  /** Instance id in claims and logs (default host:pid:random). */
  instance?: string;
  accessLog?: boolean;
}

/**
 * `lethe serve` as a library object: the HTTP API, the scheduler and the
 * background drainer around one open {@link Lethe}. `stop()` is the SIGTERM
 * path: stop accepting requests, let runs end after their current batch and
 * record it, give the scheduler lease up, close the state.
 *
 * @example
 * const service = await LetheService.start(lethe, { log, port: 8787 });
 * process.once("SIGTERM", () => service.stop());
 */
export class LetheService {
  private stopping = false;
  private stopReconnecting: () => void = () => undefined;
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly lethe: Lethe,
    readonly app: FastifyInstance,
    readonly scheduler: Scheduler,
    private readonly drainers: { events: Drainer; requests: Drainer; notifications: Drainer },
    readonly url: string,
    readonly instance: string,
    private readonly log: ServerLog,
    private readonly leaseState: StateHandle,
  ) {}

  static async start(lethe: Lethe, opts: ServiceOptions): Promise<LetheService> {
    const instance = opts.instance ?? `${hostname()}:${process.pid}:${randomBytes(2).toString("hex")}`;
    const log = opts.log;
    let service: LetheService | undefined;
    const changed = () => service?.app.lethe.stats.invalidate();
    const leaseTtlMs = lethe.config.server.leaseTtlSeconds * 1000;
    const leaseState = openLeaseConnection(lethe.config.state, lethe.state, Math.ceil(leaseTtlMs / 3));
    const scheduler = new Scheduler({
      state: lethe.state,
      leaseState,
      executor: lethe.executor,
      jobs: buildJobs(lethe, { changed }),
      graceSeconds: lethe.config.misfireGraceSeconds,
      instance,
      leaseTtlMs,
      log,
      onRunFinished: (job, outcome, seconds) =>
        service?.app.lethe.metrics.runDuration.observe({ job, status: outcome.status }, seconds),
    });
    const intake = new IntakeRate();
    const drainers = {
      // Small passes: a shutdown waits for at most one pass.
      events: new Drainer({
        name: "events",
        log,
        pass: async () => (await lethe.events.process({ limit: intake.perSecond() > HOT_INTAKE ? 25 : 100 })).processed,
        pace: () => (intake.perSecond() > HOT_INTAKE ? 250 : 0),
      }),
      requests: new Drainer({
        name: "erasure-requests",
        log,
        pass: async () => {
          const done = await lethe.requests.process();
          if (done.length > 0) {
            changed();
            // Their outcome notifications are in the outbox now: send them without waiting for the next poll.
            drainers.notifications.notify();
          }
          return done.length;
        },
      }),
      notifications: notificationsDrainer(lethe, log),
    };
    const app = await buildApp(lethe, {
      log,
      scheduler,
      notify: (queue) => {
        if (queue === "events") intake.hit();
        drainers[queue].notify();
        if (queue === "requests") drainers.notifications.notify(); // erasure.received was queued with it
      },
      accessLog: opts.accessLog ?? true,
      isReady: () => service !== undefined && !service.stopping,
    });
    const url = await app.listen({
      port: opts.port ?? lethe.config.server.port,
      host: opts.host ?? lethe.config.server.host,
    });
    service = new LetheService(lethe, app, scheduler, drainers, url, instance, log, leaseState);
    service.stopReconnecting = reconnectDownStores(lethe, log, lethe.config.server.storeRetrySeconds * 1000);
    scheduler.start();
    drainers.events.start();
    drainers.requests.start();
    drainers.notifications.start();
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : undefined;
    log.info({ port, instance, jobs: scheduler.nextFireTimes().map((j) => j.job) }, "listening");
    return service;
  }

  /** Idempotent: a second call waits for the first. */
  stop(reason = "stop requested"): Promise<void> {
    this.stopped ??= this.shutdown(reason);
    return this.stopped;
  }

  private async shutdown(reason: string): Promise<void> {
    this.stopping = true;
    this.stopReconnecting();
    this.log.info({ reason, instance: this.instance }, "shutting down: finishing the current batch");
    // In parallel: HTTP stops accepting (in-flight requests finish) while runs finish their batch.
    await Promise.all([
      this.app.close(),
      this.scheduler.stop(),
      this.drainers.events.stop(),
      this.drainers.requests.stop(),
      this.drainers.notifications.stop(),
    ]);
    await this.leaseState.close();
    await this.lethe.close();
    this.log.info({ instance: this.instance }, "stopped");
  }
}

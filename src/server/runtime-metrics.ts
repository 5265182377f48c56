import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, type Registry } from "prom-client";

export interface RuntimeMetrics {
  connectionsRefused: Counter;
  rateLimited: Counter<"class">;
  /** Stops the event-loop delay sampler (on close). */
  stop(): void;
}

const QUANTILES = [0.5, 0.9, 0.99, 1] as const;

/**
 * How well this instance keeps up with its clients: event-loop delay
 * (`perf_hooks.monitorEventLoopDelay`, quantiles since the previous scrape;
 * a whole-ledger scan on the loop shows here first), open connections,
 * connections refused beyond the cap and requests refused by a rate limit.
 *
 * @example
 * const rt = runtimeMetrics(metrics.registry, () => open());
 */
export function runtimeMetrics(registry: Registry, openConnections: () => number): RuntimeMetrics {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  new Gauge({
    name: "lethe_event_loop_delay_seconds",
    help: "Event-loop delay on this instance since the previous scrape, by quantile (1 = the maximum)",
    labelNames: ["quantile"],
    registers: [registry],
    collect() {
      this.reset();
      if (delay.count > 0)
        for (const q of QUANTILES) this.set({ quantile: String(q) }, delay.percentile(q * 100) / 1e9);
      delay.reset();
    },
  });
  new Gauge({
    name: "lethe_http_open_connections",
    help: "HTTP connections open on this instance (refused ones beyond the cap not counted)",
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  return {
    connectionsRefused: new Counter({
      name: "lethe_http_connections_refused_total",
      help: "Connections answered 503 because server.maxConnections were already open",
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "lethe_http_rate_limited_total",
      help: "Requests answered 429 by a per-token rate limit, by class",
      labelNames: ["class"],
      registers: [registry],
    }),
    stop: () => delay.disable(),
  };
}

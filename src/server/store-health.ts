import { Gauge, type Registry } from "prom-client";
import { storeErrorCode } from "../core/store-error-code.js";
import type { Lethe } from "../lethe.js";
import { notifyStoreDown } from "../notify/producers.js";
import type { ServerLog } from "./context.js";

export interface StoreStatus {
  up: boolean;
  /** Why it is down (no secrets: the driver's safe reason). */
  reason?: string;
}

/**
 * Each configured store's health as this instance sees it: up once
 * connected, down (with the reason) while it could not be reached.
 *
 * @example
 * storeStatus(lethe); // { appdb: { up: true }, blobs: { up: false, reason: "cannot reach bucket …" } }
 */
export function storeStatus(lethe: Lethe): Record<string, StoreStatus> {
  const out: Record<string, StoreStatus> = {};
  for (const name of lethe.config.stores.keys()) {
    const reason = lethe.map.down.get(name);
    out[name] = reason === undefined ? { up: lethe.map.stores.has(name) } : { up: false, reason };
  }
  return out;
}

/** `lethe_store_up{store}`: 1 connected, 0 down. */
export function storeUpGauge(registry: Registry, lethe: Lethe): void {
  new Gauge({
    name: "lethe_store_up",
    help: "1 if this instance is connected to the store, 0 while it cannot be reached",
    labelNames: ["store"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [store, s] of Object.entries(storeStatus(lethe))) this.set({ store }, s.up ? 1 : 0);
    },
  });
}

/**
 * Tries the down stores again every `everyMs` (never two attempts at once),
 * logging each store that comes back, so a store that was down when the
 * service started is used as soon as it answers. Returns a stop function.
 *
 * @example
 * const stop = reconnectDownStores(lethe, log, 15_000);
 */
export function reconnectDownStores(lethe: Lethe, log: ServerLog, everyMs = 15_000): () => void {
  const since = new Map<string, Date>();
  // One `store.down` notification per outage (deduplicated on its start), with an error code, never the message.
  const announce = () => {
    for (const [store, reason] of lethe.map.down) {
      if (since.has(store)) continue;
      const at = new Date();
      since.set(store, at);
      log.warn({ store, reason }, "store unreachable: its datasets wait");
      const error = storeErrorCode(reason);
      void notifyStoreDown(lethe, store, { since: at, error }).catch(() => undefined);
    }
    for (const store of since.keys()) if (!lethe.map.down.has(store)) since.delete(store);
  };
  announce();
  let busy = false;
  const timer = setInterval(() => {
    if (busy || lethe.map.down.size === 0) return;
    busy = true;
    void lethe.map
      .retryDown()
      .then((back) => {
        for (const store of back) log.info({ store }, "store reachable again");
        announce();
      })
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

import type { DatasetConfig, LetheConfig } from "../config/types.js";
import { ConfigError, LetheError } from "./errors.js";
import { safeReason } from "./safe-reason.js";
import type { DatasetDriver, DriverRegistry, Issues, LinkedFiles, StoreDriver } from "./types.js";

/**
 * Which stores to connect when opening: all of them (validating every
 * dataset), none (commands that only read lethe's own state: holds, the
 * ledger, requests intake), or those the named datasets need.
 */
export type StoreSelection = "all" | "none" | { datasets: string[] };

/** A configured dataset that cannot be used now because a store it needs did not answer. */
export interface UnavailableDataset {
  dataset: string;
  store: string;
  reason: string;
}

/**
 * The data map: every store opened and every dataset validated against the
 * real tables and trees, before anything is deleted. Retention, erasure and
 * the janitor all read this one registry, so they cannot drift apart.
 * Stores are connected independently: one that cannot be reached is
 * recorded as down (its datasets unavailable, naming it), the others work;
 * `retryDown()` tries the down ones again.
 */
export class DataMap {
  readonly stores = new Map<string, StoreDriver>();
  readonly datasets = new Map<string, DatasetDriver>();
  /** Stores that could not be reached, with a reason safe to show. */
  readonly down = new Map<string, string>();
  readonly warnings: string[] = [];

  private constructor(
    private readonly config: LetheConfig,
    private readonly drivers: DriverRegistry,
  ) {}

  /**
   * @example
   * const map = await DataMap.open(config, defaultDrivers);            // every store
   * const some = await DataMap.open(config, defaultDrivers, { datasets: ["logs"] });
   */
  static async open(config: LetheConfig, drivers: DriverRegistry, which: StoreSelection = "all"): Promise<DataMap> {
    const map = new DataMap(config, drivers);
    for (const name of typeof which === "object" ? which.datasets : []) map.known(name);
    try {
      await map.connect(map.storesFor(which));
    } catch (err) {
      await map.close();
      throw err;
    }
    return map;
  }

  private storesFor(which: StoreSelection): string[] {
    return storesNeeded(this.config, which);
  }

  /**
   * Connects the named stores (in parallel, each on its own) and validates
   * their datasets. A store that does not answer goes to `down`; a
   * configuration problem anywhere is a {@link ConfigError} naming every one.
   */
  private async connect(names: string[]): Promise<void> {
    const errors: string[] = [];
    const issues: Issues = {
      error: (p, m) => errors.push(`${p}: ${m}`),
      warn: (p, m) => this.warnings.push(`${p}: ${m}`),
    };
    await Promise.all(
      names.map(async (name) => {
        const sc = this.config.stores.get(name);
        if (!sc || this.stores.has(name)) return;
        let store: StoreDriver | undefined;
        try {
          store = await this.drivers[sc.kind](sc);
          const opened = new Map<string, DatasetDriver>();
          for (const ds of this.config.datasets.values()) {
            if (ds.store !== name) continue;
            const driver = await store.dataset(ds, issues);
            if (driver) opened.set(ds.name, driver);
          }
          this.stores.set(name, store);
          for (const [n, d] of opened) this.datasets.set(n, d);
          this.down.delete(name);
        } catch (err) {
          await store?.close().catch(() => undefined);
          if (err instanceof LetheError && err.code === "CONFIG_INVALID") errors.push(err.message);
          else this.down.set(name, safeReason(err));
        }
      }),
    );
    // Connected in parallel, listed in configuration order (plans, runs and results depend on it).
    reorder(this.stores, this.config.stores.keys());
    reorder(this.datasets, this.config.datasets.keys());
    if (errors.length > 0) throw new ConfigError(errors);
  }

  /** Tries every down store again; returns the names of those that are back. */
  async retryDown(): Promise<string[]> {
    const names = [...this.down.keys()];
    await this.connect(names).catch(() => undefined);
    return names.filter((n) => !this.down.has(n));
  }

  /** A dataset's driver when it and everything it needs are connected (crash reconciliation, events). */
  usable(name: string): DatasetDriver | undefined {
    const d = this.datasets.get(name);
    return d && this.ready(d.config) ? d : undefined;
  }

  /** Configured datasets whose store (or linked-files store) is down. */
  unavailable(): UnavailableDataset[] {
    const out: UnavailableDataset[] = [];
    for (const ds of this.config.datasets.values()) {
      const store = needs(this.config, ds).find((s) => this.down.has(s));
      if (store) out.push({ dataset: ds.name, store, reason: this.down.get(store) as string });
    }
    return out;
  }

  /** Validates a dataset name against the configuration (no store is contacted). */
  known(name: string): DatasetConfig {
    const ds = this.config.datasets.get(name);
    if (!ds)
      throw new LetheError(
        "USAGE",
        `unknown dataset "${name}" (known: ${[...this.config.datasets.keys()].join(", ")})`,
      );
    return ds;
  }

  /**
   * The named datasets, or all usable ones (those of down stores are left
   * out: see {@link unavailable}); an unknown name is a usage error, a
   * dataset whose store is down a STORE_ERROR naming the store.
   */
  select(name?: string): DatasetDriver[] {
    if (name === undefined) return [...this.datasets.values()].filter((d) => this.ready(d.config));
    const ds = this.known(name);
    const d = this.datasets.get(name);
    const down = needs(this.config, ds).find((s) => this.down.has(s));
    if (down)
      throw new LetheError("STORE_ERROR", `dataset ${name}: store ${down} is unreachable: ${this.down.get(down)}`, {
        store: down,
        dataset: name,
      });
    if (!d) throw new LetheError("INTERNAL", `dataset ${name}: its store was not opened for this command`);
    return [d];
  }

  private ready(ds: DatasetConfig): boolean {
    return needs(this.config, ds).every((s) => this.stores.has(s));
  }

  /**
   * Where a dataset's row-linked files live, and every dataset whose rows may
   * point at the same files (a file outlives a row while another still names it).
   */
  linkedFiles(ds: DatasetConfig): LinkedFiles | undefined {
    const store = ds.files ? this.stores.get(ds.files.store) : undefined;
    if (!store) return undefined;
    const linkers = [...this.datasets.values()].filter((d) => d.config.files?.store === ds.files?.store);
    return { store, linkers };
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await s.close().catch(() => undefined);
  }
}

function reorder<T>(map: Map<string, T>, order: Iterable<string>): void {
  const entries = new Map(map);
  map.clear();
  for (const k of order) {
    const v = entries.get(k);
    if (v !== undefined) map.set(k, v);
  }
}

/**
 * The stores a dataset cannot work without: its own, the store of its
 * row-linked files, and the stores of every dataset linking into that same
 * store (a shared file may only go once no other row names it).
 */
function needs(config: LetheConfig, ds: DatasetConfig | undefined): string[] {
  if (!ds) return [];
  if (!ds.files) return [ds.store];
  const files = ds.files.store;
  const linkers = [...config.datasets.values()].filter((d) => d.files?.store === files).map((d) => d.store);
  return [...new Set([ds.store, files, ...linkers])];
}

/**
 * The stores a selection needs: each dataset's own store and the store of its row-linked files.
 *
 * @example
 * storesNeeded(config, { datasets: ["logs"] }); // ["appdb", "models"]
 */
export function storesNeeded(config: LetheConfig, which: StoreSelection): string[] {
  if (which === "none") return [];
  if (which === "all") return [...config.stores.keys()];
  const need = new Set<string>();
  for (const name of which.datasets) for (const s of needs(config, config.datasets.get(name))) need.add(s);
  return [...need];
}

import type { DatasetConfig, LetheConfig } from "../config/types.js";
import { ConfigError, LetheError } from "./errors.js";
import type { DatasetDriver, DriverRegistry, Issues, LinkedFiles, StoreDriver } from "./types.js";

/**
 * The data map: every store opened and every dataset validated against the
 * real tables and trees, before anything is deleted. Retention, erasure and
 * the janitor all read this one registry, so they cannot drift apart.
 */
export class DataMap {
  private constructor(
    readonly stores: Map<string, StoreDriver>,
    readonly datasets: Map<string, DatasetDriver>,
    readonly warnings: string[],
  ) {}

  /**
   * @example
   * const map = await DataMap.open(config, defaultDrivers);
   */
  static async open(config: LetheConfig, drivers: DriverRegistry): Promise<DataMap> {
    const stores = new Map<string, StoreDriver>();
    const errors: string[] = [];
    const warnings: string[] = [];
    const issues: Issues = { error: (p, m) => errors.push(`${p}: ${m}`), warn: (p, m) => warnings.push(`${p}: ${m}`) };
    const closeAll = async () => {
      for (const s of stores.values()) await s.close().catch(() => undefined);
    };
    try {
      for (const sc of config.stores.values()) {
        try {
          stores.set(sc.name, await drivers[sc.kind](sc));
        } catch (err) {
          if (err instanceof LetheError && err.code === "CONFIG_INVALID") errors.push(err.message);
          else throw err;
        }
      }
      const datasets = new Map<string, DatasetDriver>();
      for (const ds of config.datasets.values()) {
        const store = stores.get(ds.store);
        if (!store) continue; // its store failed to open: already reported
        const driver = await store.dataset(ds, issues);
        if (driver) datasets.set(ds.name, driver);
      }
      if (errors.length > 0) throw new ConfigError(errors);
      return new DataMap(stores, datasets, warnings);
    } catch (err) {
      await closeAll();
      throw err;
    }
  }

  /** The named datasets, or all; an unknown name is a usage error. */
  select(name?: string): DatasetDriver[] {
    if (name === undefined) return [...this.datasets.values()];
    const d = this.datasets.get(name);
    if (!d) throw new LetheError("USAGE", `unknown dataset "${name}" (known: ${[...this.datasets.keys()].join(", ")})`);
    return [d];
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

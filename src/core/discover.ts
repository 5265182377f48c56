import type { LetheConfig } from "../config/types.js";
import { ownTableNames } from "../state/own-tables.js";
import type { DataMap } from "./data-map.js";
import { personalName, valueKind } from "./discover-rules.js";
import type { DatasetDriver } from "./types.js";

export interface UnmappedColumn {
  store: string;
  table: string;
  column: string;
  reason: string;
}

export interface DiscoverStore {
  name: string;
  /** False for stores whose driver cannot introspect (fs, s3). */
  inspected: boolean;
  tables?: number;
}

export interface DiscoverResult {
  unmapped: UnmappedColumn[];
  stores: DiscoverStore[];
}

export interface DiscoverOptions {
  /** Rows sampled per table to judge values (default 50; 0 = names only). */
  sampleSize?: number;
  /** Tables that are not the user's data (lethe's own state when it shares the database). */
  ignore?: (store: string, table: string) => boolean;
}

/**
 * Coverage check: every SQL store's schema is inspected, and every column
 * that looks like personal data (by name, or by sampled values that look
 * like emails, phone numbers or IP addresses) is reported unless an erasure
 * would reach it: its table is a dataset with a `subject` column, so the
 * whole row goes. A mapped table without `subject` is reported too — it is
 * cleaned by retention but an erasure cannot find a person's rows in it.
 * Sampled values never leave this function.
 *
 * @example
 * const { unmapped } = await discover(map);
 */
export async function discover(map: DataMap, opts: DiscoverOptions = {}): Promise<DiscoverResult> {
  const sampleSize = opts.sampleSize ?? 50;
  const unmapped: UnmappedColumn[] = [];
  const stores: DiscoverStore[] = [];
  for (const [name, store] of map.stores) {
    if (!store.discover) {
      stores.push({ name, inspected: false });
      continue;
    }
    const tables = await store.discover({ sampleSize });
    stores.push({ name, inspected: true, tables: tables.length });
    const mapped = datasetsByTable(map, name);
    for (const t of tables) {
      if (opts.ignore?.(name, t.table)) continue;
      const datasets = [t.table, ...t.aliases].flatMap((n) => mapped.get(n) ?? []);
      if (datasets.some((d) => d.capabilities.subjects)) continue; // erasure deletes whole rows here
      const prefix =
        datasets.length > 0
          ? `table is dataset "${datasets[0]?.config.name}" but has no subject column, so an erasure cannot find a person's rows; `
          : "table is not in the data map; ";
      for (const c of t.columns) {
        const byName = personalName(c.name);
        const byValue = byName ? undefined : valueKind(c.samples);
        if (byName)
          unmapped.push({
            store: name,
            table: t.table,
            column: c.name,
            reason: `${prefix}the column name suggests ${byName}`,
          });
        else if (byValue)
          unmapped.push({
            store: name,
            table: t.table,
            column: c.name,
            reason: `${prefix}${byValue.hits} of ${byValue.of} sampled values look like ${byValue.kind}`,
          });
      }
    }
  }
  unmapped.sort(
    (a, b) => a.store.localeCompare(b.store) || a.table.localeCompare(b.table) || a.column.localeCompare(b.column),
  );
  return { unmapped, stores };
}

function datasetsByTable(map: DataMap, store: string): Map<string, DatasetDriver[]> {
  const out = new Map<string, DatasetDriver[]>();
  for (const d of map.datasets.values()) {
    if (d.config.store !== store || !d.config.table) continue;
    out.set(d.config.table, [...(out.get(d.config.table) ?? []), d]);
  }
  return out;
}

function sameDatabase(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.hostname === y.hostname && (x.port || "5432") === (y.port || "5432") && x.pathname === y.pathname;
  } catch {
    return false;
  }
}

/**
 * lethe's own state tables, when its PostgreSQL state lives in a database
 * that is also a store: they are not the user's data and must not be flagged.
 */
export async function ownStateTables(config: LetheConfig): Promise<(store: string, table: string) => boolean> {
  const stateUrl = config.state.kind === "postgres" ? config.state.url : undefined;
  const stores = new Set(
    [...config.stores.values()]
      .filter((s) => s.kind === "sql" && stateUrl && sameDatabase(s.url, stateUrl))
      .map((s) => s.name),
  );
  if (stores.size === 0) return () => false;
  const tables = await ownTableNames();
  return (store, table) => stores.has(store) && (tables.has(table) || tables.has(table.replace(/^public\./, "")));
}

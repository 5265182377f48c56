import type { LetheConfig } from "../config/types.js";
import { createTextScanner, type TextScanner } from "../redact/text-scanner.js";
import { stateLocation } from "../state/open-state.js";
import { ownTableNames } from "../state/own-tables.js";
import { STATE_SCHEMA } from "../state/state-schema-name.js";
import type { DataMap } from "./data-map.js";
import { personalName } from "./discover-rules.js";
import { judgeValues } from "./discover-values.js";
import { LetheError } from "./errors.js";
import { sameDatabase } from "./same-database.js";
import { storeErrorCode } from "./store-error-code.js";
import type { DatasetDriver, DiscoveredTable } from "./types.js";

export interface UnmappedColumn {
  store: string;
  /** A table, or a masked pattern of file paths, object keys or Redis keys. */
  table: string;
  /** A column, or `(path)` / `(content)` / `(key)` / `(value)` for files, objects and keys. */
  column: string;
  reason: string;
  /** Set when sampled values were recognised: the finding type (`email`, `card`, a custom pattern's name…). */
  type?: string;
  /** Share of the sampled values holding that type (0–1), how many were sampled, and how many held it. */
  share?: number;
  sampled?: number;
  hits?: number;
  /** The first finding, masked (`j***@e***.com`): never a value. */
  excerpt?: string;
  /** For a path or key shape: segments (1-based) shown as `*` and how many distinct values each stands for. */
  distinct?: { segment: number; values: number }[];
}

export interface DiscoverStore {
  name: string;
  /** False for a store that could not be reached or read: nothing of it was checked. */
  inspected: boolean;
  tables?: number;
  /** Why it was not inspected: `unreachable` (down when lethe opened), `failed` (an error while reading it), `unsupported`. */
  reason?: "unreachable" | "failed" | "unsupported";
  /** The error code (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`, `28P01`…): never the message, which may name a host or user. */
  error?: string;
}

export interface DiscoverResult {
  unmapped: UnmappedColumn[];
  stores: DiscoverStore[];
}

export interface DiscoverOptions {
  /** Values sampled per column, files/objects per folder shape, keys per key shape (default 1000; 1 to {@link MAX_SAMPLE_SIZE}). */
  sampleSize?: number;
  /** Tables that are not the user's data (lethe's own state when it shares the database). */
  ignore?: (store: string, table: string) => boolean;
  /** Detectors to judge values with (default: the built-in ones). */
  scanner?: TextScanner;
}

/** The largest `--sample`: each sampled value is held in memory (up to 2 KiB per column value, 16 KiB per file). */
export const MAX_SAMPLE_SIZE = 100_000;

const NOUNS = { table: "table", files: "files", objects: "objects", keys: "keys" } as const;

/**
 * Coverage check: every store's tables (or files, objects, keys) are
 * inspected, and every column or group that looks like personal data — by
 * name, by sampled values the redact detectors recognise, or by paths that
 * match a dataset's subject pattern — is reported unless an erasure would
 * reach it: its table is a dataset with a `subject` column (the whole row
 * goes), or its files belong to a dataset with `subjectFromPath`. Sampled
 * values never leave this function: only types, counts and masked excerpts.
 *
 * @example
 * const { unmapped } = await discover(map, { sampleSize: 1000 });
 */
export async function discover(map: DataMap, opts: DiscoverOptions = {}): Promise<DiscoverResult> {
  const sampleSize = opts.sampleSize ?? 1000;
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE_SIZE)
    throw new LetheError("VALIDATION", `sampleSize: expected a whole number from 1 to ${MAX_SAMPLE_SIZE}`);
  const scanner = opts.scanner ?? createTextScanner();
  const unmapped: UnmappedColumn[] = [];
  const stores: DiscoverStore[] = [];
  for (const [name, store] of map.stores) {
    if (!store.discover) {
      stores.push({ name, inspected: false, reason: "unsupported" });
      continue;
    }
    const configs = [...map.datasets.values()].filter((d) => d.config.store === name).map((d) => d.config);
    let tables: DiscoveredTable[];
    try {
      tables = await store.discover({ sampleSize, datasets: configs, mask: (t) => scanner.redact(t) });
    } catch (err) {
      // One store failing mid-walk leaves the others' findings standing; this one is reported unchecked.
      stores.push({ name, inspected: false, reason: "failed", error: storeErrorCode(err) });
      continue;
    }
    stores.push({ name, inspected: true, tables: tables.length });
    const mapped = datasetsByTable(map, name);
    for (const t of tables) {
      if (opts.ignore?.(name, t.table)) continue;
      const kind = t.kind ?? "table";
      const owner = t.dataset ? map.datasets.get(t.dataset) : undefined;
      const datasets =
        kind === "table" ? [t.table, ...t.aliases].flatMap((n) => mapped.get(n) ?? []) : owner ? [owner] : [];
      if (datasets.some((d) => d.capabilities.subjects)) continue; // erasure finds a person's items here
      const prefix = reasonPrefix(kind, datasets[0]?.config.name);
      for (const c of t.columns) {
        const byName = kind === "table" ? personalName(c.name) : undefined;
        const verdict = judgeValues(c.samples, scanner);
        const why =
          c.reason ??
          (byName
            ? `the column name suggests ${byName}`
            : verdict
              ? `${verdict.hits} of ${verdict.sampled} sampled ${c.unit ?? "values"} look like ${verdict.label}`
              : undefined);
        if (!why) continue;
        const many = t.distinct?.map((d) => `${d.values} distinct values at segment ${d.segment}`).join(", ");
        unmapped.push({
          store: name,
          table: t.table,
          column: c.name,
          reason: `${prefix}${why}${many ? ` (the shape's * stand for ${many})` : ""}`,
          ...(t.distinct ? { distinct: t.distinct } : {}),
          ...(verdict
            ? {
                type: verdict.type,
                share: verdict.share,
                sampled: verdict.sampled,
                hits: verdict.hits,
                excerpt: verdict.excerpt,
              }
            : {}),
        });
      }
    }
  }
  for (const [name, why] of [...map.down].sort(([a], [b]) => a.localeCompare(b)))
    stores.push({ name, inspected: false, reason: "unreachable", error: storeErrorCode(why) });
  unmapped.sort(
    (a, b) => a.store.localeCompare(b.store) || a.table.localeCompare(b.table) || a.column.localeCompare(b.column),
  );
  return { unmapped, stores };
}

function reasonPrefix(kind: keyof typeof NOUNS, dataset: string | undefined): string {
  if (kind === "table")
    return dataset
      ? `table is dataset "${dataset}" but has no subject column, so an erasure cannot find a person's rows; `
      : "table is not in the data map; ";
  const noun = NOUNS[kind];
  return dataset
    ? `${noun} of dataset "${dataset}", which has no subject pattern, so an erasure cannot find a person's ${noun}; `
    : `${noun} no dataset covers; `;
}

function datasetsByTable(map: DataMap, store: string): Map<string, DatasetDriver[]> {
  const out = new Map<string, DatasetDriver[]>();
  for (const d of map.datasets.values()) {
    if (d.config.store !== store || !d.config.table) continue;
    out.set(d.config.table, [...(out.get(d.config.table) ?? []), d]);
  }
  return out;
}

/**
 * lethe's own state tables, when its state (PostgreSQL, or SQLite's
 * `state.db`) is also a store, under any spelling of its URL (a symlink, PG*
 * defaults): they are not the user's data and must not be flagged.
 *
 * @example
 * const own = await ownStateTables(config);
 * own("appdb", "lethe.ledger"); // true when the store appdb is lethe's PostgreSQL state database
 */
export async function ownStateTables(config: LetheConfig): Promise<(store: string, table: string) => boolean> {
  const stateUrl = stateLocation(config.state);
  const stores = new Set(
    [...config.stores.values()].filter((s) => s.kind === "sql" && sameDatabase(s.url, stateUrl)).map((s) => s.name),
  );
  if (stores.size === 0) return () => false;
  const tables = await ownTableNames();
  // PostgreSQL: only lethe's schema holds lethe's tables; an application's `events` in its own schema is its data.
  const own =
    config.state.kind === "postgres"
      ? (t: string) => t.startsWith(`${STATE_SCHEMA}.`) && tables.has(t.slice(STATE_SCHEMA.length + 1))
      : (t: string) => tables.has(t);
  return (store, table) => stores.has(store) && own(table);
}

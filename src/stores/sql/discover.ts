import { sql } from "kysely";
import type { DiscoveredTable } from "../../core/types.js";
import type { TargetDialect } from "./target-dialect.js";

/** Longer values are cut: detectors need the neighbourhood of a finding, not a whole prompt. */
const MAX_SAMPLE_CHARS = 2048;

/**
 * Every table of a target with its columns and up to `sampleSize` values of
 * each text-like column (random where the engine can: `TABLESAMPLE` and
 * `ORDER BY random()` on PostgreSQL, random rowid windows on SQLite), for
 * `lethe discover`. The samples live only in memory; the core turns them
 * into a verdict per column and drops them.
 *
 * @example
 * const tables = await discoverTables(target, 1000);
 */
export async function discoverTables(target: TargetDialect, sampleSize: number): Promise<DiscoveredTable[]> {
  const out: DiscoveredTable[] = [];
  for (const table of (await target.listTables()).sort()) {
    const info = await target.introspect(table);
    if (!info) continue; // dropped between listing and introspection
    const columns = [];
    for (const c of info.columns.values()) {
      let samples: string[] = [];
      if (sampleSize > 0) {
        try {
          samples = target.sampleValues
            ? await target.sampleValues(table, c, sampleSize, MAX_SAMPLE_CHARS)
            : await firstValues(target, table, c.name, sampleSize);
        } catch {
          // An unreadable table or column (permissions, exotic types) is still judged by its names.
        }
      }
      columns.push({ name: c.name, type: c.type, samples: samples.filter((s) => s !== "") });
    }
    const qualified = target.qualify ? await target.qualify(table) : table;
    const aliases = qualified === table ? [] : [qualified];
    out.push({ table, aliases, columns });
  }
  return out;
}

/** Targets without a sampler: the first values that are text. */
async function firstValues(target: TargetDialect, table: string, column: string, n: number): Promise<string[]> {
  const r = await sql<{ v: unknown }>`select ${sql.id(column)} as v from ${sql.table(table)}
    where ${sql.id(column)} is not null limit ${n}`.execute(target.db);
  return r.rows.flatMap((x) => (typeof x.v === "string" ? [x.v.slice(0, MAX_SAMPLE_CHARS)] : []));
}

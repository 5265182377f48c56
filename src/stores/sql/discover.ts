import { sql } from "kysely";
import type { DiscoveredTable } from "../../core/types.js";
import type { TargetDialect } from "./target-dialect.js";

/** Longer values are cut: a classifier needs the shape of a value, not a whole prompt. */
const MAX_SAMPLE_CHARS = 256;

function sampleText(v: unknown): string | undefined {
  if (typeof v === "string") return v.slice(0, MAX_SAMPLE_CHARS);
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return undefined; // blobs, dates, JSON: not what an email or phone looks like
}

/**
 * Every table of a target with its columns and the first `sampleSize` rows'
 * values as text, for `lethe discover`. The samples live only in memory; the
 * core turns them into a verdict per column and drops them.
 *
 * @example
 * const tables = await discoverTables(target, 50);
 */
export async function discoverTables(target: TargetDialect, sampleSize: number): Promise<DiscoveredTable[]> {
  const out: DiscoveredTable[] = [];
  for (const table of (await target.listTables()).sort()) {
    const info = await target.introspect(table);
    if (!info) continue; // dropped between listing and introspection
    const names = [...info.columns.keys()];
    const samples = new Map<string, string[]>(names.map((n) => [n, []]));
    if (sampleSize > 0 && names.length > 0) {
      try {
        const r = await sql<Record<string, unknown>>`select ${sql.join(names.map((n) => sql.id(n)))}
          from ${sql.table(table)} limit ${sampleSize}`.execute(target.db);
        for (const row of r.rows)
          for (const n of names) {
            const s = sampleText(row[n]);
            if (s !== undefined && s !== "") samples.get(n)?.push(s);
          }
      } catch {
        // An unreadable table (permissions, exotic types) is still judged by its column names.
      }
    }
    const aliases = target.name === "postgres" && !table.includes(".") ? [`public.${table}`] : [];
    out.push({
      table,
      aliases,
      columns: [...info.columns.values()].map((c) => ({
        name: c.name,
        type: c.type,
        samples: samples.get(c.name) ?? [],
      })),
    });
  }
  return out;
}

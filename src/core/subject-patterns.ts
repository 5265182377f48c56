import type { LetheConfig } from "../config/types.js";

/**
 * Every configured pattern that places a subject id inside a key (any
 * dataset setting that contains `{subject}`: `subjectFromPath`, a Redis
 * dataset's key patterns): free text bound for the ledger is masked by them,
 * so `failed for users/bob/x.bin` is stored as `failed for users/[SUBJECT]/x.bin`.
 *
 * @example
 * subjectPatternsOf(config); // ["users/{subject}/**"]
 */
export function subjectPatternsOf(config: Pick<LetheConfig, "datasets">): string[] {
  const out = new Set<string>();
  const take = (v: unknown): void => {
    if (typeof v === "string" && v.includes("{subject}")) out.add(v);
    else if (Array.isArray(v)) for (const x of v) take(x);
  };
  for (const d of config.datasets.values()) for (const v of Object.values(d)) take(v);
  return [...out];
}

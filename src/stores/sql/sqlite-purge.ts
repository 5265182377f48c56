import type Database from "better-sqlite3";

/** Beyond this many values (a very large batch) the search regex gets unwieldy: one VACUUM instead. */
export const MAX_NEEDLES = 100_000;
/** An encoded value longer than this is not searched for (see scrub-batcher's `searchable`): the file is rewritten. */
export const MAX_NEEDLE_BYTES = 1024;
/**
 * All values of one search together, in bytes: lethe's cap on one search's
 * cost (compiling and running the alternation), beyond which a VACUUM is the
 * cheaper answer. Not the regex engine's limit: V8 compiles 16 MiB of 1 KiB
 * alternatives, while its limit is per value (one ~32 KB literal can be
 * refused; the worker then answers PATTERN_TOO_LARGE and the file is rewritten).
 */
export const MAX_SEARCH_BYTES = 4 << 20;

/** `wal_checkpoint(TRUNCATE)`; with `wait` false it gives up at once instead of waiting the busy timeout. */
export function checkpoint(raw: Database.Database, wait = true): { busy: number; log: number } {
  const timeout = raw.pragma("busy_timeout", { simple: true }) as number;
  if (!wait) raw.pragma("busy_timeout = 0");
  try {
    const r = raw.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number }[];
    return r[0] ?? { busy: 0, log: 0 };
  } finally {
    if (!wait) raw.pragma(`busy_timeout = ${timeout}`);
  }
}

/**
 * The distinct values as the file stores them (SQLite text is UTF-8 or
 * UTF-16), as latin1 strings: one char per byte, so the search is byte-exact
 * and the strings cross to a worker thread as they are.
 *
 * @example
 * encodeAll(["ana@example.com"], "UTF-8"); // ["ana@example.com"]
 */
export function encodeAll(values: string[], encoding: string): string[] {
  const enc = (v: string): Buffer => {
    if (encoding === "UTF-16le") return Buffer.from(v, "utf16le");
    if (encoding === "UTF-16be") return Buffer.from(v, "utf16le").swap16();
    return Buffer.from(v, "utf8");
  };
  return [...new Set(values)].map((v) => enc(v).toString("latin1"));
}

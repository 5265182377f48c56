import { closeSync, openSync, readSync } from "node:fs";
import { SqlitePages } from "./sqlite-pages.js";

const CHUNK = 16 << 20;

/** Occurrences of one matched text: outside live cells (leftovers) and inside them (someone's current data). */
export interface SearchHits {
  scannedBytes: number;
  /** Keyed by the matched bytes as latin1 (the longest needle at that position). */
  hits: Record<string, { found: number; live: number }>;
}

/**
 * Searches a SQLite database file and its WAL for the needles (given as
 * latin1 strings, one char per byte) and tells, per matched text, how many
 * occurrences lie outside live cells (`found`) and inside them (`live`).
 * Every WAL occurrence counts as found: whatever a blocked checkpoint left
 * there is a leftover. Synchronous and long: run it in a worker
 * ({@link searchInWorker}).
 *
 * @example
 * const r = searchStore("/data/app.db", ["user-42@example.com"]);
 */
export function searchStore(path: string, needles: string[]): SearchHits {
  const out: SearchHits = { scannedBytes: 0, hits: {} };
  const buffers = needles.map((n) => Buffer.from(n, "latin1"));
  const hit = (text: string) => {
    out.hits[text] ??= { found: 0, live: 0 };
    return out.hits[text];
  };
  const pages = new SqlitePages(path);
  try {
    out.scannedBytes += scanFile(path, buffers, (offset, length, text) => {
      if (pages.isLive(offset, length)) hit(text).live++;
      else hit(text).found++;
    });
  } finally {
    pages.close();
  }
  out.scannedBytes += scanFile(`${path}-wal`, buffers, (_o, _l, text) => hit(text).found++);
  return out;
}

/**
 * The search worker's code when V8 refuses to compile the search regex: one
 * value beyond roughly 32 KB is enough (the limit is per value, not the
 * pattern's total). The scrub then rewrites the file instead.
 */
export const PATTERN_TOO_LARGE = "PATTERN_TOO_LARGE";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Calls `onMatch` for every occurrence of every needle in a file (overlapping
 * ones included); returns the bytes read. One alternation regex over the
 * bytes read as latin1 (one char per byte, so byte-exact): V8 runs it at
 * about the speed of a single `indexOf` whatever the number of needles, where
 * N searches would cost N passes over the file.
 */
export function scanFile(
  path: string,
  needles: Buffer[],
  onMatch: (offset: number, length: number, text: string) => void,
): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return 0; // no WAL: nothing to search
  }
  // Longest first: at one position the longest needle wins; shorter ones there lie inside it.
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const re = new RegExp(sorted.map((n) => escapeRegex(n.toString("latin1"))).join("|"), "g");
  const overlap = (sorted[0]?.length ?? 1) - 1;
  const buf = Buffer.alloc(CHUNK + overlap);
  let bytes = 0;
  try {
    let carry = 0; // the tail of the previous chunk, so a value split across two reads is still seen
    let pos = 0; // file offset of buf[carry]
    for (;;) {
      const n = readSync(fd, buf, carry, CHUNK, pos);
      if (n <= 0) break;
      bytes += n;
      const len = carry + n;
      const text = buf.toString("latin1", 0, len);
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        // Matches wholly inside the carried tail were reported with the previous chunk.
        if (m.index + m[0].length > carry) onMatch(pos - carry + m.index, m[0].length, m[0]);
        re.lastIndex = m.index + 1;
      }
      pos += n;
      carry = Math.min(overlap, len);
      buf.copy(buf, 0, len - carry, len);
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

import { closeSync, openSync, readSync } from "node:fs";
import type Database from "better-sqlite3";
import type { PurgeMode, PurgeReport } from "../../core/types.js";
import { SqlitePages } from "./sqlite-pages.js";

/** Beyond this many values (a very large batch) the search regex gets unwieldy: one VACUUM instead. */
export const MAX_NEEDLES = 100_000;
const CHUNK = 16 << 20;

/**
 * After an erasure on a SQLite file: secure_delete zeroed the deleted cells
 * and the WAL is checkpointed, but copies of a row that the application's
 * own connections left behind earlier (a page split moves cells and leaves
 * the old bytes in the page's unused space; a freed page keeps its content)
 * are not touched by deleting the row. In `verify` mode the database file
 * and WAL are searched for the erased values; an occurrence inside a live
 * cell is someone else's current data and left alone, any other occurrence
 * is a leftover, and then the database is rewritten with VACUUM (every page
 * rebuilt from live rows only). `vacuum` always rewrites; `checkpoint` does
 * neither.
 *
 * @example
 * const report = purgeSqlite(raw, "/data/app.db", "appdb", values, "verify");
 */
export function purgeSqlite(
  raw: Database.Database,
  path: string,
  store: string,
  values: string[],
  mode: PurgeMode,
): PurgeReport {
  const report: PurgeReport = { store, mode, scannedBytes: 0, found: 0, vacuumed: false, complete: true };
  let cp = checkpoint(raw);
  let rewrite = mode === "vacuum";
  if (mode === "verify") {
    const needles = encodeAll(values, String(raw.pragma("encoding", { simple: true })));
    if (needles.length > MAX_NEEDLES) rewrite = true;
    else if (needles.length > 0) {
      const pages = new SqlitePages(path);
      let live = 0;
      try {
        report.scannedBytes += scanFile(path, needles, (offset, length) => {
          if (pages.isLive(offset, length)) live++;
          else report.found++;
        });
      } finally {
        pages.close();
      }
      // Whatever a blocked checkpoint left in the WAL counts as a leftover.
      report.scannedBytes += scanFile(`${path}-wal`, needles, () => report.found++);
      if (live > 0) report.liveMatches = live;
      rewrite = report.found > 0;
    }
  }
  if (rewrite) {
    raw.exec("VACUUM");
    report.vacuumed = true;
    // A reader that already outlasted the busy timeout once is still there: do not wait for it a second time.
    cp = checkpoint(raw, cp.busy === 0);
  }
  if (cp.busy) {
    report.complete = false;
    report.reason = `another connection kept the WAL from being checkpointed: erased bytes may remain in ${path}-wal or the database file until it is checkpointed (run the erasure again when the other connection is gone)`;
  }
  return report;
}

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

/** The values as the file stores them (SQLite text is UTF-8 or UTF-16). */
function encodeAll(values: string[], encoding: string): Buffer[] {
  const enc = (v: string): Buffer => {
    if (encoding === "UTF-16le") return Buffer.from(v, "utf16le");
    if (encoding === "UTF-16be") return Buffer.from(v, "utf16le").swap16();
    return Buffer.from(v, "utf8");
  };
  return [...new Set(values)].map(enc);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Calls `onMatch` for every occurrence of every needle in a file (overlapping
 * ones included); returns the bytes read. One alternation regex over the
 * bytes read as latin1 (one char per byte, so byte-exact): V8 runs it at
 * about the speed of a single `indexOf` whatever the number of needles, where
 * N searches would cost N passes over the file.
 */
export function scanFile(path: string, needles: Buffer[], onMatch: (offset: number, length: number) => void): number {
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
        if (m.index + m[0].length > carry) onMatch(pos - carry + m.index, m[0].length);
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

import { closeSync, openSync, readSync } from "node:fs";
import type Database from "better-sqlite3";
import type { PurgeMode, PurgeReport } from "../../core/types.js";

/** Beyond this many values one VACUUM is cheaper than searching the file for each. */
export const MAX_NEEDLES = 64;
const CHUNK = 8 << 20;

/**
 * After an erasure on a SQLite file: secure_delete zeroed the deleted cells
 * and the WAL is checkpointed, but copies of a row that the application's
 * own connections left behind earlier (a page split moves cells and leaves
 * the old bytes in the page's unused space; a freed page keeps its content)
 * are not touched by deleting the row. In `verify` mode the database file
 * and WAL are searched for the erased values and, if any is found, the
 * database is rewritten with VACUUM (every page rebuilt from live rows only);
 * `vacuum` always rewrites; `checkpoint` does neither.
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
      const r = search([path, `${path}-wal`], needles);
      report.scannedBytes = r.bytes;
      report.found = r.found;
      rewrite = r.found > 0;
    }
  }
  if (rewrite) {
    raw.exec("VACUUM");
    report.vacuumed = true;
    cp = checkpoint(raw);
  }
  if (cp.busy) {
    report.complete = false;
    report.reason = `another connection kept the WAL from being checkpointed: erased bytes may remain in ${path}-wal or the database file until it is`;
  }
  return report;
}

function checkpoint(raw: Database.Database): { busy: number; log: number } {
  const r = raw.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number }[];
  return r[0] ?? { busy: 0, log: 0 };
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

/** How many of the needles occur in the files (each needle counted once). */
export function search(paths: string[], needles: Buffer[]): { found: number; bytes: number } {
  const pending = new Set(needles);
  const overlap = Math.max(...needles.map((n) => n.length)) - 1;
  const buf = Buffer.alloc(CHUNK + overlap);
  let bytes = 0;
  for (const p of paths) {
    let fd: number;
    try {
      fd = openSync(p, "r");
    } catch {
      continue; // no WAL: nothing to search
    }
    try {
      let carry = 0;
      let pos = 0;
      for (;;) {
        const n = readSync(fd, buf, carry, CHUNK, pos);
        if (n <= 0) break;
        pos += n;
        bytes += n;
        const view = buf.subarray(0, carry + n);
        for (const needle of pending) if (view.includes(needle)) pending.delete(needle);
        if (pending.size === 0) break;
        carry = Math.min(overlap, view.length);
        view.copy(buf, 0, view.length - carry);
      }
    } finally {
      closeSync(fd);
    }
  }
  return { found: needles.length - pending.size, bytes };
}

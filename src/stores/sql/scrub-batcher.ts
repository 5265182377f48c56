import type Database from "better-sqlite3";
import type { PurgeMode, PurgeReport } from "../../core/types.js";
import { checkpoint, encodeAll, MAX_NEEDLE_BYTES, MAX_NEEDLES, MAX_SEARCH_BYTES } from "./sqlite-purge.js";
import type { SearchHits } from "./sqlite-scan.js";
import { isPatternTooLarge, searchInWorker } from "./sqlite-scan-in-worker.js";

interface Pending {
  values: string[];
  mode: PurgeMode;
  resolve(report: PurgeReport): void;
  reject(err: unknown): void;
}

export interface ScrubBatcherOptions {
  store: string;
  path: string;
  raw: Database.Database;
  /** Runs `fn` while lethe's connection to the file is free (no transaction of its own open). */
  exclusive<T>(fn: () => T): Promise<T>;
  /** The search of the file and WAL; a worker thread unless a test wraps it. */
  search?: (path: string, needles: string[]) => Promise<SearchHits>;
}

/**
 * The scrub of one SQLite file, shared by the erasures of this process: a
 * purge waits up to `windowMs` for others, then one pass (checkpoint, one
 * search for the union of every waiting erasure's values in a worker
 * thread, at most one VACUUM) serves them all, and each erasure gets its own
 * report. A purge that arrives while a pass runs waits for the next pass:
 * its delete committed after that pass's checkpoint, so only a later
 * checkpoint and search can vouch for its bytes.
 *
 * @example
 * const batcher = new ScrubBatcher({ store: "appdb", path, raw, exclusive });
 * const report = await batcher.purge(values, "verify", 10);
 */
export class ScrubBatcher {
  /** Passes started so far (tests count them). */
  passes = 0;
  private queue: Pending[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ScrubBatcherOptions) {}

  purge(values: string[], mode: PurgeMode, windowMs = 0): Promise<PurgeReport> {
    return new Promise((resolve, reject) => {
      this.queue.push({ values, mode, resolve, reject });
      // A running pass starts the next one itself when it ends.
      if (!this.running && this.timer === undefined)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.drain();
        }, windowMs);
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        // Taken before the pass's checkpoint: every delete of this batch committed before its purge was queued.
        const batch = this.queue.splice(0);
        this.passes++;
        try {
          const reports = await this.pass(batch);
          for (const [i, p] of batch.entries()) p.resolve(reports[i] as PurgeReport);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async pass(batch: Pending[]): Promise<PurgeReport[]> {
    const { raw, path, store } = this.opts;
    const encoding = String(raw.pragma("encoding", { simple: true }));
    const needles = batch.map((p) => (p.mode === "verify" ? encodeAll(p.values, encoding) : []));
    let cp = await this.opts.exclusive(() => checkpoint(raw));
    const union = [...new Set(needles.flat())];
    let unsearchable = !searchable(union);
    const hits =
      !unsearchable && union.length > 0
        ? await (this.opts.search ?? searchInWorker)(path, union).catch((err: unknown) => {
            // The pattern was too large for the regex engine: the rewrite below is the sound answer.
            if (!isPatternTooLarge(err)) throw err;
            unsearchable = true;
            return undefined;
          })
        : undefined;
    const reports = batch.map((p, i): PurgeReport => {
      const report: PurgeReport = { store, mode: p.mode, scannedBytes: 0, found: 0, vacuumed: false, complete: true };
      if (batch.length > 1) report.shared = batch.length;
      if (hits && (needles[i]?.length ?? 0) > 0) attribute(report, hits, new Set(needles[i]));
      return report;
    });
    const rewrite = batch.some((p) => p.mode === "vacuum") || unsearchable || reports.some((r) => r.found > 0);
    if (rewrite) {
      // A reader that already outlasted the busy timeout once is still there: do not wait for it a second time.
      cp = await this.opts.exclusive(() => {
        raw.exec("VACUUM");
        return checkpoint(raw, cp.busy === 0);
      });
    }
    for (const r of reports) {
      r.vacuumed = rewrite;
      if (cp.busy) {
        r.complete = false;
        r.reason = `another connection kept the WAL from being checkpointed: erased bytes may remain in ${path}-wal or the database file until it is checkpointed (run the erasure again when the other connection is gone)`;
      }
    }
    return reports;
  }
}

/**
 * Whether a byte search can vouch for these values. Not when there are too
 * many (the pattern gets unwieldy), or when one is longer than
 * MAX_NEEDLE_BYTES: in a row larger than a page, SQLite stores a long value
 * in pieces across overflow pages, so a leftover need not hold it in one run
 * of bytes and a search for the whole value could miss it. Either way the
 * file is rewritten (VACUUM) instead, which needs no search.
 */
function searchable(union: string[]): boolean {
  if (union.length > MAX_NEEDLES) return false;
  let total = 0;
  for (const n of union) {
    if (n.length > MAX_NEEDLE_BYTES) return false;
    total += n.length;
  }
  return total <= MAX_SEARCH_BYTES;
}

/**
 * One erasure's share of a pass's hits. A hit is keyed by the longest needle
 * matched at its position; a shorter needle matched there is a prefix of it
 * (needles starting later inside it are hits of their own).
 */
function attribute(report: PurgeReport, hits: SearchHits, mine: Set<string>): void {
  report.scannedBytes = hits.scannedBytes;
  const lengths = [...new Set([...mine].map((n) => n.length))];
  let live = 0;
  for (const [text, c] of Object.entries(hits.hits)) {
    if (!lengths.some((l) => l <= text.length && mine.has(text.slice(0, l)))) continue;
    report.found += c.found;
    live += c.live;
  }
  if (live > 0) report.liveMatches = live;
}

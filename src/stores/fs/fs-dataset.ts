import { lstatSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { DatasetConfig } from "../../config/types.js";
import { expiryBucket, expiryDayBounds } from "../../core/expiry-days.js";
import { safeReason } from "../../core/safe-reason.js";
import type {
  DatasetCapabilities,
  DatasetDriver,
  DeleteOptions,
  DeleteResult,
  ExpiredSummary,
  Item,
} from "../../core/types.js";
import { insideRoot, safeRealpath } from "./safe-path.js";
import { type SubjectPattern, subjectPattern } from "./subject-pattern.js";
import { type SweepOutcome, type SweepRequest, sweepFiles } from "./sweep.js";
import type { FsSweeper } from "./sweeper.js";
import { globMatcher, type Matcher, walkFiles } from "./walk.js";

/**
 * Files under an fs root matched by globs; expiry by modification time.
 * Only regular files that match are ever deleted, never a directory, never
 * through a symlink, never outside the root.
 *
 * @example
 * const ds = new FsDataset(datasetConfig, "/data/models"); // made by the fs store driver
 * for await (const batch of ds.scanExpired(new Date(), 500)) console.log(batch.map((i) => i.key));
 */
export class FsDataset implements DatasetDriver {
  readonly capabilities: DatasetCapabilities;
  private readonly match: Matcher;
  private readonly subjects: SubjectPattern | undefined;

  /** Set while scanExpired has a batch out: reads the next one (deleteBatch runs it while its worker removes files). */
  private readAhead: (() => void) | undefined;

  constructor(
    readonly config: DatasetConfig,
    private readonly root: string,
    /** Removes large batches in a worker thread; without one (or for small batches) they run here. */
    private readonly sweeper?: FsSweeper,
  ) {
    this.match = globMatcher(config.include, config.exclude);
    this.subjects = config.subjectFromPath ? subjectPattern(config.subjectFromPath) : undefined;
    this.capabilities = { exactDeletes: true, subjects: this.subjects !== undefined, bytes: true, linkedFiles: false };
  }

  private expiresAt(mtimeMs: number): number | undefined {
    const r = this.config.retention;
    return r.kind === "duration" ? mtimeMs / 1000 + r.seconds : undefined;
  }

  private item(rel: string, mtimeMs: number, size: number): Item {
    const item: Item = { key: rel, bytes: size };
    const exp = this.expiresAt(mtimeMs);
    if (exp !== undefined) item.expiresAt = exp;
    if (this.subjects) item.subject = this.subjects.extract(rel) ?? null;
    return item;
  }

  /** Walks the tree; directories it cannot read become this walk's problems (see scanProblems). */
  private walk() {
    this.problems = []; // a count and then a scan walk the same tree: report its problems once
    const unreadable = (rel: string, err: unknown) =>
      this.problems.push({ key: rel, reason: `directory could not be read: ${safeReason(err)}` });
    return walkFiles(this.root, this.match, unreadable);
  }

  private *expired(now: Date): Generator<Item> {
    const nowS = now.getTime() / 1000;
    for (const f of this.walk()) {
      const exp = this.expiresAt(f.stat.mtimeMs);
      if (exp !== undefined && exp <= nowS) yield this.item(f.rel, f.stat.mtimeMs, f.stat.size);
    }
  }

  private problems: { key: string; reason: string }[] = [];

  scanProblems(): { key: string; reason: string }[] {
    return this.problems.splice(0);
  }

  subjectOf(key: Item["key"]): string | undefined {
    return this.subjects?.extract(String(key));
  }

  async count(): Promise<number> {
    let n = 0;
    for (const _ of walkFiles(this.root, this.match)) n++;
    return n;
  }

  async summarizeExpired(now: Date): Promise<ExpiredSummary> {
    const out: ExpiredSummary = { expired: 0, bytes: 0 };
    const bySubject = new Map<string, number>();
    for (const item of this.expired(now)) {
      out.expired++;
      out.bytes = (out.bytes ?? 0) + (item.bytes ?? 0);
      if (item.subject) bySubject.set(item.subject, (bySubject.get(item.subject) ?? 0) + 1);
    }
    if (this.subjects) out.bySubject = bySubject;
    return out;
  }

  async *scanExpired(now: Date, batchSize: number): AsyncIterable<Item[]> {
    const src = this.expired(now);
    const take = (): Item[] => {
      const b: Item[] = [];
      while (b.length < batchSize) {
        const r = src.next();
        if (r.done) break;
        b.push(r.value);
      }
      return b;
    };
    let next: Item[] | undefined = take();
    try {
      while (next.length > 0) {
        const cur: Item[] = next;
        next = undefined;
        // The walk is syscall-bound too: the next batch is read while the sweep worker removes this one.
        this.readAhead = () => {
          next ??= take();
        };
        yield cur;
        this.readAhead = undefined;
        next ??= take();
      }
    } finally {
      this.readAhead = undefined;
    }
  }

  async fetchExpired(keys: Item["key"][], now: Date): Promise<Item[]> {
    const nowS = now.getTime() / 1000;
    const out: Item[] = [];
    for (const key of keys) {
      const st = this.statItem(String(key));
      const exp = st ? this.expiresAt(st.mtimeMs) : undefined;
      if (st && exp !== undefined && exp <= nowS) out.push(this.item(String(key), st.mtimeMs, st.size));
    }
    return out;
  }

  async *list(batchSize: number): AsyncIterable<Item[]> {
    function* all(files: ReturnType<typeof walkFiles>, self: FsDataset): Generator<Item> {
      for (const f of files) yield self.item(f.rel, f.stat.mtimeMs, f.stat.size);
    }
    yield* batches(all(walkFiles(this.root, this.match), this), batchSize);
  }

  async *scanSubject(subject: string, batchSize: number): AsyncIterable<Item[]> {
    const pattern = this.subjects;
    if (!pattern) return;
    function* mine(files: ReturnType<typeof walkFiles>, self: FsDataset): Generator<Item> {
      for (const f of files)
        if (pattern?.extract(f.rel) === subject) yield self.item(f.rel, f.stat.mtimeMs, f.stat.size);
      // An unreadable directory that can only hold another subject's items does not concern this one.
      self.problems = self.problems.filter((p) => {
        const owner = pattern?.extract(`${p.key}/x`);
        return owner === undefined || owner === subject;
      });
    }
    yield* batches(mine(this.walk(), this), batchSize);
  }

  ownsKey(key: Item["key"]): boolean {
    const rel = String(key);
    if (rel === "" || rel.includes("\0") || isAbsolute(rel)) return false;
    return !rel.split(/[\\/]/).includes("..") && this.match(rel);
  }

  /** lstat of a matched, contained, regular file; undefined otherwise. */
  private statItem(rel: string, realRoot = safeRealpath(this.root), parents?: Map<string, string | undefined>) {
    if (!this.match(rel)) return undefined;
    const abs = insideRoot(this.root, rel, realRoot, parents);
    if (!abs) return undefined;
    try {
      const st = lstatSync(abs);
      return st.isFile() ? Object.assign(st, { abs }) : undefined;
    } catch {
      return undefined;
    }
  }

  async deleteBatch(items: Item[], opts: DeleteOptions): Promise<DeleteResult> {
    // Not a name this dataset could hold: nothing of ours to delete (neither deleted nor failed).
    const mine = items.filter((item) => this.ownsKey(item.key));
    const r = this.config.retention;
    const req: SweepRequest = {
      root: this.root,
      keys: mine.map((item) => String(item.key)),
      action: opts.action,
      // Modified since it was found expired: not expired any more, left alone.
      ...(opts.expiredAt
        ? {
            expiry: { nowS: opts.expiredAt.getTime() / 1000, retentionS: r.kind === "duration" ? r.seconds : Infinity },
          }
        : {}),
    };
    // Every removal goes through descriptors opened from the root without following links (sweep.ts,
    // src/safe-fs): a directory swapped for a link mid-batch fails its items, it never redirects them.
    let outcomes: SweepOutcome[];
    if (this.sweeper && mine.length >= WORKER_MIN_ITEMS) outcomes = await this.sweeper.run(req, this.readAhead);
    else outcomes = sweepFiles(req);
    const out: DeleteResult = { deleted: [], failed: [] };
    for (let i = 0; i < mine.length; i++) {
      const o = outcomes[i];
      const item = mine[i] as Item;
      if (o === true) out.deleted.push(item);
      else if (typeof o === "string") out.failed.push({ item, reason: o });
      else if (typeof o === "object") out.failed.push({ item, reason: o.reason, permanent: true });
    }
    return out;
  }

  async refusedKeys(keys: Item["key"][]): Promise<Set<string>> {
    const realRoot = safeRealpath(this.root);
    const out = new Set<string>();
    for (const key of keys.map(String)) {
      const abs = this.match(key) ? insideRoot(this.root, key, realRoot) : undefined;
      if (!abs) continue;
      try {
        if (!lstatSync(abs).isFile()) out.add(key);
      } catch {
        // gone
      }
    }
    return out;
  }

  async existing(keys: Item["key"][]): Promise<Set<string>> {
    const realRoot = safeRealpath(this.root);
    return new Set(keys.map(String).filter((k) => this.statItem(k, realRoot) !== undefined));
  }

  async expiryHistogram(now: Date, days: number): Promise<number[]> {
    const bounds = expiryDayBounds(now, days);
    const out = new Array<number>(days).fill(0);
    for (const f of walkFiles(this.root, this.match)) {
      const exp = this.expiresAt(f.stat.mtimeMs);
      const i = exp === undefined ? -1 : expiryBucket(bounds, exp);
      if (i >= 0) out[i] = (out[i] ?? 0) + 1;
    }
    return out;
  }

  async oldestExpiry(now: Date): Promise<number | undefined> {
    let min: number | undefined;
    for (const item of this.expired(now))
      if (item.expiresAt !== undefined && (min === undefined || item.expiresAt < min)) min = item.expiresAt;
    return min;
  }
}

/** Below this a batch is removed on the calling thread: a worker's round trip would cost more than it saves. */
export const WORKER_MIN_ITEMS = 256;

async function* batches<T>(source: Iterable<T>, size: number): AsyncIterable<T[]> {
  let batch: T[] = [];
  for (const x of source) {
    batch.push(x);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

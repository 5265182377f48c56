/**
 * Group commit: callers submit one item each and await it; whatever arrives
 * while a flush is running goes into the next flush together. An idle queue
 * flushes on the next check phase (after the current I/O phase), so a lone
 * caller pays almost no batching delay, while thousands of concurrent callers
 * (HTTP requests read in the same I/O phase included) share a few state
 * transactions.
 *
 * @example
 * const opens = new GroupCommit((rows) => insertAll(rows));
 * await opens.submit(row);
 */
export class GroupCommit<T, R = undefined> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running) return;
      this.running = true;
      // Start on the next check phase, not now: with SQLite every flush completes without yielding to I/O,
      // so an immediate flush would commit each HTTP request alone. Deferred, every request read in the
      // same I/O phase joins one transaction; a lone caller waits one setImmediate (microseconds).
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.flush(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

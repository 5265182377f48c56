/**
 * One cached async value with a time-to-live; concurrent callers share the
 * same in-flight computation, so a burst of dashboard polls and metric
 * scrapes costs one query.
 *
 * @example
 * const stats = new TtlCache(5000, () => computeStats());
 * await stats.get();
 */
export class TtlCache<T> {
  private value: { at: number; v: T } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly compute: () => Promise<T>,
  ) {}

  async get(): Promise<T> {
    if (this.value && Date.now() - this.value.at < this.ttlMs) return this.value.v;
    this.pending ??= this.compute()
      .then((v) => {
        this.value = { at: Date.now(), v };
        return v;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  invalidate(): void {
    this.value = undefined;
  }
}

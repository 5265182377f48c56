/** Reads every group gets before the per-store budget is shared out, when the store has many groups. */
export const MIN_READS_PER_GROUP = 20;
/** Items read per store at most, however many groups it has. */
export const MAX_READS = 20_000;

/**
 * Which items of a store `lethe discover` reads, spread over their groups
 * (key shapes, directories): a random reservoir of at most `sampleSize`
 * items per group is kept while walking, then the groups are read in turns,
 * one item each, until the store's budget is spent. A group of 40 keys beside
 * one of 50,000 is read as fully as the big one, whatever the walk order.
 *
 * @example
 * const s = new GroupSample<string>(1000);
 * for (const key of keys) s.add(shapeOf(key), key);
 * await s.read(async (group, key) => (await sample(key)) !== undefined);
 */
export class GroupSample<T> {
  private readonly pools = new Map<string, { seen: number; items: T[] }>();

  constructor(private readonly sampleSize: number) {}

  add(group: string, item: T): void {
    const pool = this.pools.get(group) ?? { seen: 0, items: [] };
    this.pools.set(group, pool);
    pool.seen++;
    if (pool.items.length < this.sampleSize) pool.items.push(item);
    else {
      // Reservoir sampling: every item of the group has the same chance to be kept.
      const j = Math.floor(Math.random() * pool.seen);
      if (j < this.sampleSize) pool.items[j] = item;
    }
  }

  /** `sampleSize`, raised so that every group can get {@link MIN_READS_PER_GROUP}, never above {@link MAX_READS}. */
  budget(): number {
    return Math.max(this.sampleSize, Math.min(this.pools.size * MIN_READS_PER_GROUP, MAX_READS));
  }

  /**
   * Reads groups in turns until {@link budget} reads succeeded (`read`
   * returns false for an item gone or unreadable) or every kept item was tried.
   */
  async read(read: (group: string, item: T) => Promise<boolean>): Promise<void> {
    let left = this.budget();
    const queues = [...this.pools].map(([group, p]) => ({ group, items: p.items, next: 0 }));
    while (left > 0) {
      let progressed = false;
      for (const q of queues) {
        if (left <= 0) break;
        const item = q.items[q.next++];
        if (item === undefined) continue;
        progressed = true;
        if (await read(q.group, item)) left--;
      }
      if (!progressed) break;
    }
  }
}

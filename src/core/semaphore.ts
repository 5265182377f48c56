/**
 * At most `limit` holders at once; the rest wait in arrival order. Used where
 * an unbounded fan-out would exhaust a process-wide resource (file
 * descriptors) that the callers themselves also need.
 *
 * @example
 * const gate = new Semaphore(64);
 * await gate.use(() => shredTree(parentFd, name));
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Semaphore limit must be a positive integer`);
  }

  /** Runs `fn` once a slot is free and releases the slot however `fn` ends. */
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.held++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    }
  }
}

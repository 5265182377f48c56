/**
 * Events accepted per second over the last two seconds, cheaply: two
 * one-second buckets, no timers. The event drainer reads it to slow down
 * while intake is hot, so acknowledging events (the latency clients see)
 * keeps the CPU and the state database first; the queue absorbs the burst.
 *
 * @example
 * const rate = new IntakeRate(); rate.hit(); rate.perSecond();
 */
export class IntakeRate {
  private second = 0;
  private current = 0;
  private previous = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private roll(): void {
    const s = Math.floor(this.now() / 1000);
    if (s === this.second) return;
    this.previous = s === this.second + 1 ? this.current : 0;
    this.current = 0;
    this.second = s;
  }

  hit(): void {
    this.roll();
    this.current++;
  }

  perSecond(): number {
    this.roll();
    return Math.max(this.current, this.previous);
  }
}

const DAY = 86_400;

/**
 * Bucket bounds (epoch seconds) for an expiry forecast: bucket 0 runs from
 * `now` to the next UTC midnight (anything earlier is already expired, not
 * forecast), bucket i covers UTC day i after today. Returns `days + 1` bounds;
 * bucket i is `[bounds[i], bounds[i + 1])`.
 *
 * @example
 * expiryDayBounds(new Date("2026-01-01T12:00:00Z"), 2); // [noon Jan 1, Jan 2 00:00, Jan 3 00:00]
 */
export function expiryDayBounds(now: Date, days: number): number[] {
  const nowS = now.getTime() / 1000;
  const midnight = Math.floor(nowS / DAY) * DAY;
  const bounds = [nowS];
  for (let i = 1; i <= days; i++) bounds.push(midnight + i * DAY);
  return bounds;
}

/** Which bucket of `bounds` an expiry instant falls in, or -1. */
export function expiryBucket(bounds: number[], expiresAt: number): number {
  if (bounds.length < 2 || expiresAt < (bounds[0] as number) || expiresAt >= (bounds[bounds.length - 1] as number))
    return -1;
  const first = bounds[1] as number;
  if (expiresAt < first) return 0;
  return 1 + Math.floor((expiresAt - first) / DAY);
}

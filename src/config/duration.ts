/**
 * Durations are always written with a unit: `90s`, `15m`, `1h`, `30d`.
 * A bare number is rejected on purpose: `retention: 30` could mean seconds
 * or days, and guessing wrong deletes data.
 *
 * @example
 * parseDuration("30d"); // 2_592_000 (seconds)
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION_RE = /^(\d+)(s|m|h|d|w)$/;

export function parseDuration(input: string): number | undefined {
  const m = DURATION_RE.exec(input.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNIT_SECONDS[m[2] as string];
  if (!Number.isSafeInteger(n) || unit === undefined) return undefined;
  return n * unit;
}

export function isDuration(input: unknown): input is string {
  return typeof input === "string" && parseDuration(input) !== undefined;
}

/** Renders seconds in the largest exact unit, e.g. 86400 → "1d". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Durations are always written with a unit: `500ms`, `90s`, `15m`, `1h`, `30d`.
 * A bare number is rejected on purpose: `retention: 30` could mean seconds
 * or days, and guessing wrong deletes data.
 *
 * @example
 * parseDuration("30d"); // 2_592_000 (seconds)
 * parseDurationMs("500ms"); // 500
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+)(ms|s|m|h|d|w)$/;
/** The same grammar for JSON Schema and editors (no surrounding spaces there). */
export const DURATION_PATTERN = "^[0-9]+(ms|s|m|h|d|w)$";

/** Milliseconds, or undefined when the text is not a duration with a unit. */
export function parseDurationMs(input: string): number | undefined {
  const m = DURATION_RE.exec(input.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNIT_MS[m[2] as string];
  if (!Number.isSafeInteger(n) || unit === undefined || !Number.isSafeInteger(n * unit)) return undefined;
  return n * unit;
}

/**
 * Whole seconds, or undefined when the text is not a duration with a unit or
 * is not a whole number of seconds (`500ms` is for {@link parseDurationMs}
 * callers: workspace ttls, leases, retry delays).
 *
 * @example
 * parseDuration("30d"); // 2592000
 * parseDuration("500ms"); // undefined
 */
export function parseDuration(input: string): number | undefined {
  const ms = parseDurationMs(input);
  return ms === undefined || ms % 1000 !== 0 ? undefined : ms / 1000;
}

export function isDuration(input: unknown): input is string {
  return typeof input === "string" && parseDurationMs(input) !== undefined;
}

/** A whole number of seconds: retention, deadlines and graces count in seconds. */
export function isSecondsDuration(input: unknown): input is string {
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

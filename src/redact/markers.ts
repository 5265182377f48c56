/**
 * Markers that replace what could not be shown. Each says why, so a reader
 * of a log knows a field existed and was withheld rather than empty.
 *
 * @example
 * if (line.includes(MARKERS.redacted)) console.log("a sensitive field was withheld");
 */
export const MARKERS = {
  /** Value of a sensitive key (`password`, `authorization`, `prompt`…). */
  redacted: "[REDACTED]",
  circular: "[CIRCULAR]",
  tooLarge: "[DROPPED:TOO_LARGE]",
  tooDeep: "[DROPPED:TOO_DEEP]",
  tooMany: "[DROPPED:TOO_MANY]",
  /** A getter, Proxy trap or conversion threw while reading the value. */
  unreadable: "[DROPPED:UNREADABLE]",
  failed: "[DROPPED:REDACTION_FAILED]",
} as const;

export function binaryMarker(bytes: number): string {
  return `[BINARY:${bytes}]`;
}

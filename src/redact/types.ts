/**
 * Shared vocabulary of the redaction module: what a detector reports and how
 * callers extend it. Kept in one place so detectors, the scanner, the logger
 * and scan-logs agree on the shape of a span.
 */

/**
 * Built-in finding types. Custom patterns add their own (lower-cased) names.
 *
 * @example
 * const custom = findings.filter((f) => !(BUILTIN_TYPES as readonly string[]).includes(f.type));
 */
export const BUILTIN_TYPES = [
  "email",
  "phone",
  "card",
  "iban",
  "ssn",
  "ip",
  "jwt",
  "token",
  "api_key",
  "sensitive_field",
] as const;

export type BuiltinType = (typeof BUILTIN_TYPES)[number];

/** A detected region of a text: `[start, end)` in UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
  type: string;
  /** What replaces the span; defaults to the detector's marker. */
  replacement?: string;
  /** Lower wins when two spans start at the same place. */
  priority: number;
}

/**
 * A detector appends the spans it finds in `text` to `out`. Detectors run on
 * whole multi-line chunks, so they must never match across a newline. One
 * detector may report several types (a shared trigger regex is cheaper than
 * one pass per type); `markers` maps each to its replacement.
 */
export interface Detector {
  readonly markers: Readonly<Record<string, string>>;
  scan(text: string, out: Span[]): void;
}

/**
 * A user-defined pattern from config (`redact.patterns`).
 *
 * @example
 * const p: CustomPattern = { name: "employee_id", regex: "EMP-\\d{6}" };
 */
export interface CustomPattern {
  name: string;
  regex: string | RegExp;
  /** Extra RegExp flags (`i`, `u`…); `g` is always added. */
  flags?: string;
}

/** Options shared by everything that builds a text scanner. */
export interface ScannerOptions {
  /** Extra sensitive key names, added to the defaults. */
  keys?: string[];
  /** Extra patterns, run after the built-in detectors. */
  patterns?: CustomPattern[];
}

import { createValueWalker, type WalkLimits } from "./redact-value.js";
import { createTextScanner, type TextScanner } from "./text-scanner.js";
import type { ScannerOptions, Span } from "./types.js";

/** Everything `redact()` can be told: extra keys and patterns, and walk limits. */
export interface RedactOptions extends ScannerOptions, WalkLimits {}

/**
 * A configured redactor. Build one per configuration and reuse it: building
 * compiles every detector.
 *
 * @example
 * const r = createRedactor({ keys: ["employee_note"], patterns: [{ name: "emp", regex: "EMP-\\d{6}" }] });
 * r.redact({ user: "jane@example.com", employee_note: "x" }); // { user: "[EMAIL]", employee_note: "[REDACTED]" }
 * r.redactText("card 4111 1111 1111 1111");                   // "card [CARD]"
 */
export interface Redactor {
  /** Deep copy of `value` with sensitive keys and detected contents replaced. */
  redact(value: unknown): unknown;
  /** `text` with detected spans replaced by typed markers. */
  redactText(text: string): string;
  /** Detected spans of `text`, sorted and non-overlapping. */
  scanText(text: string): Span[];
  readonly scanner: TextScanner;
}

/**
 * A redactor for values and text: sensitive keys replaced whole, personal data in strings replaced by typed
 * markers (built-in detectors plus `patterns`).
 *
 * @example
 * const r = createRedactor();
 * r.redactText("mail jane@example.com from 10.1.2.3"); // "mail [EMAIL] from [IP]"
 * r.redact({ password: "x", note: "a@b.example" }); // { password: "[REDACTED]", note: "[EMAIL]" }
 */
export function createRedactor(opts: RedactOptions = {}): Redactor {
  const scanner = createTextScanner(opts);
  const walk = createValueWalker(scanner, opts);
  return {
    redact: walk,
    redactText: (text) => scanner.redact(text),
    scanText: (text) => scanner.scan(text),
    scanner,
  };
}

let defaultRedactor: Redactor | undefined;

/**
 * Redacts any value at any depth, with the default detectors and keys unless
 * options are given. Never mutates its input; never throws (what cannot be
 * read safely is dropped with a marker).
 *
 * @example
 * redact({ password: "hunter2", note: "call +1 415 555 0100" });
 * // { password: "[REDACTED]", note: "call [PHONE]" }
 */
export function redact(value: unknown, opts?: RedactOptions): unknown {
  if (opts) return createRedactor(opts).redact(value);
  defaultRedactor ??= createRedactor();
  return defaultRedactor.redact(value);
}

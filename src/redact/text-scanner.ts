import { BUILTIN_DETECTORS, compileCustomPatterns, fieldDetector } from "./detectors/index.js";
import { scanPercentEncoded } from "./percent-encoded.js";
import { createKeyMatcher, type KeyMatcher } from "./sensitive-keys.js";
import type { Detector, ScannerOptions, Span } from "./types.js";

/**
 * Finds and replaces personal data in text. One scanner is built per
 * configuration and reused: detectors hold compiled regexes.
 *
 * @example
 * const scanner = createTextScanner();
 * scanner.redact("mail jane@example.com"); // "mail [EMAIL]"
 */
export interface TextScanner {
  /** Non-overlapping spans, sorted by start. */
  scan(text: string): Span[];
  /** `text` with every span replaced by its marker. */
  redact(text: string): string;
  /** Replaces the given spans (from {@link TextScanner.scan} on the same text). */
  apply(text: string, spans: readonly Span[]): string;
  readonly keys: KeyMatcher;
  readonly hasCustomPatterns: boolean;
  /** Finding types of the custom patterns (`redact.patterns` names, lower-cased). */
  readonly customTypes: ReadonlySet<string>;
  markerOf(type: string): string;
}

/**
 * Every built-in detector needs one of these: a digit (cards, phones, IPs,
 * IBANs), `@`, `:` or `=` (IPv6, `key=value`), or a credential prefix.
 * Short strings without any skip the detectors; this is most of what a
 * structured logger passes through.
 */
const MAYBE_SENSITIVE =
  /[0-9@:=]|eyJ|AKIA|ASIA|AIza|gh[pousr]_|github_pat_|xox[abposr]-|xapp-|k_live_|k_test_|sk-|glpat-|earer|asic/i;
const PREFILTER_MAX = 4096;

/**
 * The detectors (built-in and custom `patterns`) over text: the spans they find, or the text with each
 * replaced by its marker.
 *
 * @example
 * const s = createTextScanner();
 * s.scan("call +1 415 555 0100 or a@b.example"); // [{ type: "phone", … }, { type: "email", … }]
 * s.redact("a@b.example"); // "[EMAIL]"
 */
export function createTextScanner(opts: ScannerOptions = {}): TextScanner {
  const keys = createKeyMatcher(opts.keys);
  const custom = compileCustomPatterns(opts.patterns);
  const detectors: Detector[] = [fieldDetector(keys), ...BUILTIN_DETECTORS, ...custom];
  const markers = new Map(detectors.flatMap((d) => Object.entries(d.markers)));
  const markerOf = (type: string): string => markers.get(type) ?? "[REDACTED]";

  const scan = (text: string): Span[] => {
    if (custom.length === 0 && text.length < PREFILTER_MAX && !MAYBE_SENSITIVE.test(text)) return [];
    const found: Span[] = [];
    for (const d of detectors) d.scan(text, found);
    scanPercentEncoded(text, detectors, found);
    return settle(text, found);
  };
  const apply = (text: string, spans: readonly Span[]): string => {
    if (spans.length === 0) return text;
    let out = "";
    let last = 0;
    for (const s of spans) {
      out += text.slice(last, s.start) + (s.replacement ?? markerOf(s.type));
      last = s.end;
    }
    return out + text.slice(last);
  };
  return {
    scan,
    apply,
    redact: (text) => apply(text, scan(text)),
    keys,
    hasCustomPatterns: custom.length > 0,
    customTypes: new Set(custom.flatMap((d) => Object.keys(d.markers))),
    markerOf,
  };
}

/**
 * Orders spans and merges overlaps into the earliest (then highest-priority)
 * one, widened to cover both: a partial overlap must never leave raw
 * characters of either finding behind.
 */
function settle(text: string, spans: Span[]): Span[] {
  if (spans.length === 0) return spans;
  for (const s of spans) s.start = skipEscape(text, s.start);
  spans.sort((a, b) => a.start - b.start || a.priority - b.priority || b.end - a.end);
  const out: Span[] = [];
  let cur: Span | undefined;
  for (const s of spans) {
    if (s.end <= s.start) continue;
    if (cur && s.start < cur.end) {
      if (s.end > cur.end) cur.end = s.end;
      continue;
    }
    cur = s;
    out.push(s);
  }
  return out;
}

/**
 * In JSON text `\nj@x.com` is a newline then the email; a span starting on
 * the `n` would cut the escape in half and break the line. Step over an
 * escape sequence that ends at the span start.
 */
function skipEscape(text: string, start: number): number {
  let slashes = 0;
  while (start - slashes - 1 >= 0 && text.charCodeAt(start - slashes - 1) === 92) slashes++;
  if (slashes % 2 === 0) return start;
  return text.charCodeAt(start) === 117 ? start + 5 : start + 1;
}

import { maskExcerpt } from "../redact/mask.js";
import type { TextScanner } from "../redact/text-scanner.js";

/** Finding types that are personal data (tokens and secret fields are the log scanner's business, not discover's). */
const LABELS: Record<string, string> = {
  email: "email addresses",
  phone: "phone numbers",
  card: "card numbers",
  iban: "IBANs",
  ip: "IP addresses",
  ssn: "social security numbers",
  jwt: "JWTs",
};

/** Detectors that also fire on ordinary numbers and versions: they need a larger share before a column is flagged. */
const LOOSE = new Set(["phone", "ip"]);
export const MIN_HITS = 2;
export const MIN_SHARE = 0.05;
export const MIN_SHARE_LOOSE = 0.3;

/** What the sampled values of one column (or file group, or key pattern) hold. Never a raw value. */
export interface ValueVerdict {
  /** The detector's finding type: `email`, `phone`, `card`, `iban`, `ip`, `ssn`, `jwt` or a custom pattern's name. */
  type: string;
  /** Plural wording for messages (`email addresses`). */
  label: string;
  /** Sampled values holding at least one finding of this type. */
  hits: number;
  sampled: number;
  share: number;
  /** The first finding, masked (`j***@e***.com`, `****1111`). */
  excerpt: string;
}

/**
 * Judges sampled values with the redact detectors (the same ones that guard
 * logs, custom `redact.patterns` included): the type found in the largest
 * share of values wins, when at least {@link MIN_HITS} values (all, if fewer
 * were sampled) and a share of {@link MIN_SHARE} hold it ({@link
 * MIN_SHARE_LOOSE} for phone numbers and IP addresses, whose detectors also
 * match some plain numbers). A value counts once per type however many
 * findings it holds, so a free-text column is flagged too.
 *
 * @example
 * judgeValues(["mail a@b.io", "c@d.org", "n/a"], createTextScanner());
 * // { type: "email", label: "email addresses", hits: 2, sampled: 3, share: 0.667, excerpt: "a***@b***.io" }
 */
export function judgeValues(samples: readonly string[], scanner: TextScanner): ValueVerdict | undefined {
  if (samples.length === 0) return undefined;
  const hits = new Map<string, number>();
  const first = new Map<string, string>();
  for (const value of samples) {
    const seen = new Set<string>();
    for (const span of scanner.scan(value)) {
      if (!(span.type in LABELS) && !scanner.customTypes.has(span.type)) continue;
      if (seen.has(span.type)) continue;
      seen.add(span.type);
      hits.set(span.type, (hits.get(span.type) ?? 0) + 1);
      if (!first.has(span.type)) first.set(span.type, maskExcerpt(span.type, value.slice(span.start, span.end)));
    }
  }
  let best: ValueVerdict | undefined;
  for (const [type, n] of hits) {
    const share = n / samples.length;
    const enough = n >= Math.min(MIN_HITS, samples.length) && share >= (LOOSE.has(type) ? MIN_SHARE_LOOSE : MIN_SHARE);
    if (!enough || (best && best.hits >= n)) continue;
    best = {
      type,
      label: LABELS[type] ?? `values matching redact pattern "${type}"`,
      hits: n,
      sampled: samples.length,
      share: Math.round(share * 1000) / 1000,
      excerpt: first.get(type) ?? "",
    };
  }
  return best;
}

/**
 * Which object keys and `key=value` names hide a secret or personal content.
 * Keys are compared normalised (lower case, separators dropped), so
 * `X-Api-Key`, `api_key` and `apiKey` are one key.
 */

/**
 * Matched when a key equals or ends with one of these (`access_token`, `system_prompt`).
 *
 * @example
 * DEFAULT_SENSITIVE_KEYS.includes("password"); // true
 * createKeyMatcher().isSensitive("user_password"); // true: it ends with a default key
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "authorization",
  "cookie",
  "set-cookie",
  "api_key",
  "x-api-key",
  "private_key",
  "credential",
  "credentials",
  "prompt",
  "response_text",
  "ssn",
];

/** Matched anywhere in a key (`db_password_old`, `client_secret_id`). */
const CONTAINED_KEYS = ["password", "passwd", "passphrase", "secret", "api_key", "private_key", "credential"];

/**
 * @example
 * normalizeKey("X-Api-Key"); // "xapikey"
 */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** `x-api-key`, `apiKey`, `API_KEY` → `x[-_.]?api[-_.]?key`: any separator, or none, between words. */
function loosePattern(key: string): string {
  return key
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .map((w) => w.toLowerCase())
    .filter((w) => w.length > 0)
    .join("[-_.]?");
}

/**
 * @example
 * const keys = createKeyMatcher(["employee_note"]);
 * keys.isSensitive("Authorization"); // true
 * keys.isSensitive("prompt_tokens"); // false: a count, not the prompt
 */
export interface KeyMatcher {
  isSensitive(key: string): boolean;
  /**
   * Regex sources (case-insensitive) for finding keys in text: `contained`
   * may sit anywhere in a key, `suffix` must end it.
   */
  readonly textPatterns: { readonly contained: readonly string[]; readonly suffix: readonly string[] };
  /** The extra keys (normalised) given on top of the defaults; their values are treated as prose. */
  readonly extra: readonly string[];
}

const CACHE_LIMIT = 4096;

/**
 * The default keys plus `extra` (usually `config.redact.keys`); see {@link KeyMatcher}.
 *
 * @example
 * const keys = createKeyMatcher(["patient_ref"]);
 * keys.isSensitive("patientRef"); // true (spellings are normalised)
 * keys.isSensitive("note"); // false
 */
export function createKeyMatcher(extra: readonly string[] = []): KeyMatcher {
  const spellings = [...DEFAULT_SENSITIVE_KEYS, ...extra].filter((k) => normalizeKey(k).length > 0);
  const contained = CONTAINED_KEYS.map(normalizeKey);
  const entries = [...new Set(spellings.map(normalizeKey))];
  // An entry that ends with, or contains, a broader one adds nothing.
  const roots = entries.filter(
    (e) => !entries.some((o) => o !== e && e.endsWith(o)) && !contained.some((c) => e.includes(c)),
  );
  const suffix = [...new Set(spellings.filter((k) => roots.includes(normalizeKey(k))).map(loosePattern))];
  const cache = new Map<string, boolean>();
  const decide = (key: string): boolean => {
    const n = normalizeKey(key);
    if (n.length === 0) return false;
    for (const r of roots) if (n.endsWith(r)) return true;
    for (const c of contained) if (n.includes(c)) return true;
    return false;
  };
  return {
    textPatterns: { contained: CONTAINED_KEYS.map(loosePattern), suffix },
    extra: [...new Set(extra.map(normalizeKey).filter((k) => k.length > 0))],
    isSensitive(key: string): boolean {
      let hit = cache.get(key);
      if (hit === undefined) {
        hit = decide(key);
        // Keys in logs repeat endlessly; a bounded cache keeps hostile input
        // (a million distinct keys) from growing memory.
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

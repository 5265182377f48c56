import { escapeGlob, globToRegex } from "../../config/redis-glob.js";
import { isKeyName, keyBytes, utf8Text } from "./key-bytes.js";

/**
 * A redis dataset's key pattern (`cache:prompt:{subject}:*`): a Redis glob
 * (`*`, `?`, `[…]`, `\` escapes, the syntax of `SCAN MATCH`) with at most
 * one `{subject}`. Turns it into the MATCH argument for every key, the MATCH
 * argument for one subject (the id escaped, so a subject `*` is the literal
 * character and never every key), and a matcher that owns keys and reads
 * their subject the way Redis matches them: byte by byte, so keys that are
 * not UTF-8 (named as in key-bytes.ts) are owned and read too.
 *
 * @example
 * const p = keyPattern("cache:prompt:{subject}:*");
 * p.match;                       // "cache:prompt:*:*"
 * p.matchFor("a*b");             // "cache:prompt:a\\*b:*"
 * p.subjectOf("cache:prompt:u1:9"); // "u1"
 */
export interface KeyPattern {
  /** SCAN MATCH argument covering every key of the dataset. */
  readonly match: string;
  readonly hasSubject: boolean;
  /** SCAN MATCH argument covering one subject's keys. */
  matchFor(subject: string): string;
  /** Whether the key of this name (key-bytes.ts) matches; a name that is not a key's one name never does. */
  owns(key: string): boolean;
  /** The subject a key carries (the shortest one the pattern allows), or undefined when none or not UTF-8. */
  subjectOf(key: string): string | undefined;
}

/**
 * A dataset's key pattern (`cache:prompt:{subject}:*`), matched byte for byte as SCAN MATCH matches.
 *
 * @example
 * const p = keyPattern("cache:prompt:{subject}:*");
 * p.matchFor("bob"); // "cache:prompt:bob:*"
 * p.subjectOf("cache:prompt:bob:17"); // "bob"
 */
export function keyPattern(pattern: string): KeyPattern {
  const parts = pattern.split("{subject}");
  const [before, after] = [parts[0] ?? "", parts.slice(1).join("{subject}")];
  const hasSubject = parts.length > 1;
  // Redis matches bytes (`?` is one byte): so does lethe, over keys and globs as latin1 strings of their bytes.
  const re = hasSubject
    ? new RegExp(`^${globToRegex(bytesOf(before))}([\\s\\S]+?)${globToRegex(bytesOf(after))}$`)
    : new RegExp(`^${globToRegex(bytesOf(pattern))}$`);
  const read = (name: string) => (isKeyName(name) ? re.exec(keyBytes(name).toString("latin1")) : null);
  return {
    match: hasSubject ? `${before}*${after}` : pattern,
    hasSubject,
    matchFor: (subject) => `${before}${escapeGlob(subject)}${after}`,
    owns: (key) => read(key) !== null,
    subjectOf(key) {
      const id = hasSubject ? read(key)?.[1] : undefined;
      return id === undefined ? undefined : utf8Text(Buffer.from(id, "latin1"));
    },
  };
}

/** A text's UTF-8 bytes as a latin1 string (one character per byte). */
function bytesOf(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

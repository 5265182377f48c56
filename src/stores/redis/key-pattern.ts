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

/** Escapes the characters SCAN MATCH treats specially, so `s` matches only itself. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/** A Redis glob as the body of a JS regular expression (Redis `stringmatchlen` semantics). */
export function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < glob.length) out += escapeRe(glob[++i] as string);
    else if (c === "[") {
      const end = classEnd(glob, i);
      if (end < 0) out += "\\[";
      else {
        out += charClass(glob.slice(i + 1, end));
        i = end;
      }
    } else out += escapeRe(c);
  }
  return out;
}

/** The index of the `]` closing the class opened at `start`, or -1 when it stays open (then `[` is literal). */
export function classEnd(glob: string, start: number): number {
  for (let j = start + 1; j < glob.length; j++) {
    if (glob[j] === "\\") j++;
    else if (glob[j] === "]") return j;
  }
  return -1;
}

/** A Redis `[…]` class body (`^` negation, ranges, `\` escapes) as a JS regex class. */
export function charClass(body: string): string {
  let negate = false;
  let i = 0;
  if (body[0] === "^") {
    negate = true;
    i = 1;
  }
  let out = "";
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) c = body[++i] as string;
    if (body[i + 1] === "-" && i + 2 < body.length) {
      let hi = body[i + 2] as string;
      i += 2;
      if (hi === "\\" && i + 1 < body.length) hi = body[++i] as string;
      // Redis accepts reversed ranges ([z-a]); a JS class would not.
      const [a, b] = c <= hi ? [c, hi] : [hi, c];
      out += `${escapeClass(a)}-${escapeClass(b)}`;
    } else out += escapeClass(c);
  }
  return out === "" ? (negate ? "[\\s\\S]" : "[^\\s\\S]") : `[${negate ? "^" : ""}${out}]`;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
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

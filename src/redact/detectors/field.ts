import { codeAt, isKeyChar } from "../chars.js";
import type { KeyMatcher } from "../sensitive-keys.js";
import type { Detector, Span } from "../types.js";

const MARKER = "[REDACTED]";
const SCHEMES = new Set(["bearer", "basic", "digest", "token", "negotiate"]);
const MARKER_AT = /^\[[A-Z_:]+\]/;
const NOT_A_VALUE = /^(?:true|false|null|undefined|none|\[[A-Z_:]+\])$/i;

/**
 * Keys whose values are prose rather than one token (`prompt: Tell me about
 * my diagnosis`, `password: correct horse battery staple`): an unquoted
 * value runs to the next `key=` / `, key:` or the end of the line instead of
 * the first blank. Compared on the normalised key (lower case, no separators).
 */
const PROSE_SUFFIXES = [
  "prompt",
  "response",
  "responsetext",
  "completion",
  "message",
  "body",
  "content",
  "text",
  "input",
  "output",
  "query",
  "question",
  "answer",
  "note",
  "notes",
  "comment",
  "password",
  "passwd",
  "passphrase",
  "secret",
];
const PROSE_CONTAINED = ["password", "passwd", "passphrase"];

/**
 * Values of sensitive keys written into text: `"password":"…"` in JSON
 * lines, also when that JSON was itself stored as a string
 * (`"body":"{\"password\":\"…\"}"`, at any depth of escaping), `token=…` in
 * query strings, `Authorization: Bearer …` in headers, `prompt: …` in prose.
 * The whole value is replaced; in JSON a non-string value becomes the string
 * `"[REDACTED]"` (quoted at the same escaping depth) so the line still parses.
 */
export function fieldDetector(keys: KeyMatcher): Detector {
  // Roots that may sit anywhere in a key (`password`) need no boundary; the
  // rest must end the key and be followed by `:` or `=` (possibly after a
  // closing quote, escaped or not), which keeps `prompt_tokens` and `tokens`
  // from costing a key check on every line of an LLM log.
  const { contained, suffix } = keys.textPatterns;
  const parts = [...contained];
  if (suffix.length > 0) parts.push(`(?:${suffix.join("|")})["'\\\\ \\t]*[:=]`);
  const re = new RegExp(`(?:${parts.join("|")})`, "gi");
  const prose = (key: string): boolean => {
    const n = key.toLowerCase().replace(/[^a-z0-9]/g, "");
    for (const e of keys.extra) if (n.endsWith(e)) return true;
    for (const s of PROSE_SUFFIXES) if (n.endsWith(s)) return true;
    for (const c of PROSE_CONTAINED) if (n.includes(c)) return true;
    return false;
  };
  return {
    markers: { sensitive_field: MARKER },
    scan(text: string, out: Span[]): void {
      re.lastIndex = 0;
      const quotes = new QuoteDepth(text);
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        let ks = m.index;
        while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1))) ks--;
        let ke = m.index;
        while (ke < text.length && isKeyChar(text.charCodeAt(ke))) ke++;
        re.lastIndex = ke;
        const key = text.slice(ks, ke);
        if (!keys.isSensitive(key)) continue;
        const lower = key.toLowerCase();
        const span = valueSpan(text, ks, ke, lower.endsWith("cookie"), prose(key), quotes);
        if (!span) continue;
        out.push(span);
        re.lastIndex = span.end;
      }
    },
  };
}

/**
 * A quote at `i`, possibly escaped: `"`, `\"`, `\\\"`… The backslashes in
 * front of a quote say at which depth of JSON-in-a-string it is structural:
 * `"` (or any even run) at depth 0, `\"` at depth 1, `\\\"` at depth 2: the
 * number of trailing one bits of the run length.
 */
function quoteLevelBefore(text: string, q: number): number {
  let n = 0;
  while (q - n - 1 >= 0 && text.charCodeAt(q - n - 1) === 92) n++;
  let level = 0;
  while (n & 1) {
    level++;
    n >>= 1;
  }
  return level;
}

/** Length of the backslash run ending just before `q`. */
function backslashesBefore(text: string, q: number): number {
  let n = 0;
  while (q - n - 1 >= 0 && text.charCodeAt(q - n - 1) === 92) n++;
  return n;
}

/**
 * If a quote (escaped at `level`) starts at `i`, the index just past it;
 * otherwise -1. At level 0 a bare `"` or `'`.
 */
function quoteAt(text: string, i: number, level: number, quote: number): number {
  const run = (1 << level) - 1;
  for (let k = 0; k < run; k++) if (codeAt(text, i + k) !== 92) return -1;
  return codeAt(text, i + run) === quote ? i + run + 1 : -1;
}

/**
 * How deep inside (possibly escaped) strings each position of a text is,
 * computed incrementally: detector hits come in order, so the whole text is
 * walked at most once per scan.
 */
class QuoteDepth {
  private pos = 0;
  private depth = 0;
  constructor(private readonly text: string) {}
  /** Depth at `at` (0: outside any string on this line). */
  at(at: number): number {
    const text = this.text;
    if (at < this.pos) {
      this.pos = 0;
      this.depth = 0;
    }
    for (let j = this.pos; j < at; j++) {
      const c = text.charCodeAt(j);
      if (c === 10) this.depth = 0;
      else if (c === 34) {
        const t = quoteLevelBefore(text, j);
        if (t === this.depth) this.depth++;
        else if (t < this.depth) this.depth = t;
      }
    }
    this.pos = at;
    return this.depth;
  }
}

/** Finds the value after `key` `[ks, ke)`: optional closing quote, `:` or `=`, then the value. */
function valueSpan(
  text: string,
  ks: number,
  ke: number,
  cookie: boolean,
  prose: boolean,
  quotes: QuoteDepth,
): Span | undefined {
  const open = codeAt(text, ks - 1);
  // Quoted key: `"key"`, `'key'`, or escaped JSON `\"key\"` at any depth.
  const level = open === 34 ? quoteLevelBefore(text, ks - 1) : 0;
  let i = ke;
  let keyQuoted = false;
  if (open === 34 || open === 39) {
    const after = quoteAt(text, i, level, open);
    if (after !== -1) {
      i = after;
      keyQuoted = true;
    }
  }
  i = skipBlanks(text, i);
  const sep = codeAt(text, i);
  if (sep !== 58 && sep !== 61) return undefined;
  i = skipBlanks(text, i + 1);
  // `"key":` is JSON; `"prompt: …"` (a quote opening a message, not a key) is prose.
  const json = keyQuoted && open === 34 && sep === 58;
  const quoted = jsonQuote(level);
  const c = codeAt(text, i);
  if (c === 39 && level === 0) {
    return make(text, i + 1, closingQuote(text, i + 1, 39), MARKER);
  }
  if (c === 34 || (c === 92 && level > 0)) {
    const after = quoteAt(text, i, json ? level : 0, 34);
    if (after !== -1) return make(text, after, closingQuoteAt(text, after, json ? level : 0), MARKER);
    if (c === 34) return make(text, i + 1, closingQuote(text, i + 1, 34), MARKER);
  }
  if (c === 91 && MARKER_AT.test(text.slice(i, i + 40))) return undefined;
  if (c === 123 || (c === 91 && json)) {
    return make(text, i, closingBracket(text, i, json ? level : 0), json ? quoted : MARKER);
  }
  if (json) return make(text, i, bareEnd(text, i), quoted);
  // A cookie header carries several `name=value;` pairs: all of them go.
  if (cookie) return make(text, i, lineEnd(text, i), MARKER);
  if (prose) return make(text, i, proseEnd(text, i, quotes.at(ks)), MARKER);
  let j = bareEnd(text, i);
  if (SCHEMES.has(text.slice(i, j).toLowerCase())) {
    const k = skipBlanks(text, j);
    if (k > j) j = bareEnd(text, k);
  }
  return make(text, i, j, MARKER);
}

/** `"[REDACTED]"` with its quotes escaped for JSON nested `level` strings deep. */
function jsonQuote(level: number): string {
  const q = `${"\\".repeat((1 << level) - 1)}"`;
  return `${q}${MARKER}${q}`;
}

function make(text: string, start: number, end: number, replacement: string): Span | undefined {
  // Never swallow the backslash of an escape the span ends next to (`x\"`):
  // the replacement would then unescape the quote and break the JSON.
  let e = end;
  while (e > start && backslashesBefore(text, e) % 2 === 1) e--;
  if (e <= start || NOT_A_VALUE.test(text.slice(start, Math.min(e, start + 24)))) return undefined;
  return { start, end: e, type: "sensitive_field", replacement, priority: 1 };
}

function skipBlanks(text: string, i: number): number {
  let j = i;
  while (codeAt(text, j) === 32 || codeAt(text, j) === 9) j++;
  return j;
}

/** Index of the closing quote (escape-aware), or the line end if unterminated. */
function closingQuote(text: string, from: number, quote: number): number {
  let j = from;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 92) j += 2;
    else if (c === quote || c === 10) return Math.min(j, text.length);
    else j++;
  }
  return text.length;
}

/**
 * Start of the quote closing a string opened at escaping depth `level`: the
 * first `"` whose backslash run puts it at that depth or shallower (deeper
 * ones are quotes inside the value). Returns the start of its backslash run,
 * or the line end.
 */
function closingQuoteAt(text: string, from: number, level: number): number {
  if (level === 0) return closingQuote(text, from, 34);
  let j = text.indexOf('"', from);
  const nl = text.indexOf("\n", from);
  const stop = nl === -1 ? text.length : nl;
  while (j !== -1 && j < stop) {
    if (quoteLevelBefore(text, j) <= level) return j - backslashesBefore(text, j);
    j = text.indexOf('"', j + 1);
  }
  return stop;
}

/** One past the bracket closing the one at `from` (strings at `level` skipped), or the line end. */
function closingBracket(text: string, from: number, level: number): number {
  let depth = 0;
  let j = from;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 10) return j;
    if (c === 34) {
      const t = quoteLevelBefore(text, j);
      if (t < level) return j - backslashesBefore(text, j);
      if (t === level) {
        j = closingQuoteAt(text, j + 1, level);
        if (j >= text.length || text.charCodeAt(j) === 10) return j;
        j += (1 << level) - 1;
      }
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return j + 1;
    j++;
  }
  return text.length;
}

/** End of an unquoted value: whitespace, a delimiter or an escape sequence ends it. */
function bareEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c <= 32 || c === 44 || c === 59 || c === 38 || c === 125 || c === 93 || c === 41 || c === 34 || c === 39) break;
    if (c === 92 && isEscapeLetter(codeAt(text, j + 1))) break;
    j++;
  }
  return j;
}

/** `\"`, `\n`, `\r`, `\t`: in JSON text these end a bare value as the character itself would. */
function isEscapeLetter(c: number): boolean {
  return c === 34 || c === 92 || c === 110 || c === 114 || c === 116;
}

/** End of a header-style value: the line end or a quote. */
function lineEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 10 || c === 13 || c === 34 || c === 39) break;
    j++;
  }
  return j;
}

/**
 * End of a prose value: the line end, the next ` key=` / `&key=` / `, key:`
 * / `; key=` (so `password=x user=bob` keeps `user=bob`), or, when the key
 * sits inside a quoted string (depth > 0: a JSON `msg`, a logfmt `msg="…"`),
 * the quote closing that string. Quotes inside plain-text prose do not end it.
 */
function proseEnd(text: string, i: number, depth: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 10 || c === 13) return j;
    if (c === 92 && depth > 0) {
      const n = codeAt(text, j + 1);
      // `\n` inside a JSON string is a line break of the message.
      if (n === 110 || n === 114) return j;
    }
    if (c === 34 && depth > 0 && quoteLevelBefore(text, j) < depth) return j - backslashesBefore(text, j);
    if ((c === 32 || c === 9 || c === 38 || c === 44 || c === 59) && j > i && nextKeyAt(text, j, c)) return j;
    j++;
  }
  return j;
}

/** After the delimiter at `d`: blanks, a key name, then `=` (or `:` after `,`/`;`). */
function nextKeyAt(text: string, d: number, delim: number): boolean {
  let k = skipBlanks(text, d + 1);
  const ks = k;
  while (k < text.length && isKeyChar(text.charCodeAt(k))) k++;
  if (k === ks) return false;
  const c = codeAt(text, k);
  if (c === 61) return codeAt(text, k + 1) !== 61;
  return c === 58 && (delim === 44 || delim === 59) && codeAt(text, k + 1) === 32;
}

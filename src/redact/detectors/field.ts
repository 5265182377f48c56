import { codeAt, isKeyChar } from "../chars.js";
import type { KeyMatcher } from "../sensitive-keys.js";
import type { Detector, Span } from "../types.js";

const MARKER = "[REDACTED]";
const SCHEMES = new Set(["bearer", "basic", "digest", "token", "negotiate"]);
const MARKER_AT = /^\[[A-Z_:]+\]/;
const NOT_A_VALUE = /^(?:true|false|null|undefined|none|\[[A-Z_:]+\])$/i;

/**
 * Values of sensitive keys written into text: `"password":"…"` in JSON
 * lines, `token=…` in query strings, `Authorization: Bearer …` in headers.
 * The whole value is replaced; in JSON a non-string value becomes the string
 * `"[REDACTED]"` so the line still parses.
 */
export function fieldDetector(keys: KeyMatcher): Detector {
  // Roots that may sit anywhere in a key (`password`) need no boundary; the
  // rest must end the key and be followed by `:` or `=`, which keeps
  // `prompt_tokens` and `tokens` from costing a key check on every line of
  // an LLM log.
  const { contained, suffix } = keys.textPatterns;
  const parts = [...contained];
  if (suffix.length > 0) parts.push(`(?:${suffix.join("|")})["' \\t]*[:=]`);
  const re = new RegExp(`(?:${parts.join("|")})`, "gi");
  return {
    markers: { sensitive_field: MARKER },
    scan(text: string, out: Span[]): void {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        let ks = m.index;
        while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1))) ks--;
        let ke = m.index;
        while (ke < text.length && isKeyChar(text.charCodeAt(ke))) ke++;
        re.lastIndex = ke;
        const key = text.slice(ks, ke);
        if (!keys.isSensitive(key)) continue;
        const span = valueSpan(text, ks, ke, key.toLowerCase().endsWith("cookie"));
        if (!span) continue;
        out.push(span);
        re.lastIndex = span.end;
      }
    },
  };
}

/** Finds the value after `key` `[ks, ke)`: optional closing quote, `:` or `=`, then the value. */
function valueSpan(text: string, ks: number, ke: number, cookie: boolean): Span | undefined {
  const open = codeAt(text, ks - 1);
  let i = ke;
  if ((open === 34 || open === 39) && codeAt(text, i) === open) i++;
  i = skipBlanks(text, i);
  const sep = codeAt(text, i);
  if (sep !== 58 && sep !== 61) return undefined;
  i = skipBlanks(text, i + 1);
  const json = open === 34 && sep === 58;
  const c = codeAt(text, i);
  if (c === 34 || c === 39) {
    const close = closingQuote(text, i + 1, c);
    return make(text, i + 1, close, MARKER);
  }
  if (c === 91 && MARKER_AT.test(text.slice(i, i + 40))) return undefined;
  if (c === 123 || (c === 91 && json)) {
    return make(text, i, closingBracket(text, i), json ? `"${MARKER}"` : MARKER);
  }
  // A cookie header carries several `name=value;` pairs: all of them go.
  let j = cookie && !json ? lineEnd(text, i) : bareEnd(text, i);
  if (SCHEMES.has(text.slice(i, j).toLowerCase())) {
    const k = skipBlanks(text, j);
    if (k > j) j = bareEnd(text, k);
  }
  return make(text, i, j, json ? `"${MARKER}"` : MARKER);
}

function make(text: string, start: number, end: number, replacement: string): Span | undefined {
  if (end <= start || NOT_A_VALUE.test(text.slice(start, Math.min(end, start + 24)))) return undefined;
  return { start, end, type: "sensitive_field", replacement, priority: 1 };
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

/** One past the bracket closing the one at `from` (strings skipped), or the line end. */
function closingBracket(text: string, from: number): number {
  let depth = 0;
  let j = from;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 10) return j;
    if (c === 34) {
      j = closingQuote(text, j + 1, 34);
      if (j >= text.length || text.charCodeAt(j) === 10) return j;
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return j + 1;
    j++;
  }
  return text.length;
}

/** End of an unquoted value: whitespace or a delimiter ends it. */
function bareEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c <= 32 || c === 44 || c === 59 || c === 38 || c === 125 || c === 93 || c === 41 || c === 34 || c === 39) break;
    j++;
  }
  return j;
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

import { codeAt, isAlnum, isAlpha } from "../chars.js";
import type { Detector, Span } from "../types.js";

/**
 * A code unit that may be part of an internationalised address
 * (`josé`, `münchen`, `用户`). Detectors see UTF-16 strings from the logger
 * and Latin-1 views of UTF-8 bytes from scan-logs, so anything from U+0080
 * up counts, except Unicode spaces and punctuation that can only come from
 * real UTF-16 text (`“`, `。`, `，`, NBSP…). In the Latin-1 view, bytes
 * 0x80–0xBF are UTF-8 continuation bytes, so they count only right after
 * another byte of 0x80 or more; in UTF-16 text that keeps `«`, `»` and NBSP
 * next to an address out of it.
 */
function isIntl(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0x80) return false;
  if (c <= 0xbf) return i > 0 && text.charCodeAt(i - 1) >= 0x80;
  if (c < 0x100) return c !== 0xd7 && c !== 0xf7;
  if (c >= 0x2000 && c <= 0x206f) return false; // general punctuation, spaces, quotes
  if (c >= 0x3000 && c <= 0x303f) return false; // CJK punctuation
  if (c >= 0xfe30 && c <= 0xfe4f) return false;
  if (c >= 0xff00 && c <= 0xff20) return false; // fullwidth punctuation, `＠`
  if (c === 0xfeff || c === 0x00a0 || c === 0x1680) return false;
  return true;
}

/** `[A-Za-z0-9._%+-]`: the unquoted local-part characters people actually use. */
function isLocalChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || isIntl(text, i);
}

/**
 * The rest of RFC 5322's `atext` (`' & = / ! # ~ * $ ^ { | } \``): part of
 * the address only inside a word (`o'brien`, `jane&john`), never where a
 * quote or delimiter starts one (`'jane@…'`, `&to=`).
 */
function isInnerSpecial(c: number): boolean {
  return (
    c === 39 ||
    c === 38 ||
    c === 61 ||
    c === 47 ||
    c === 33 ||
    c === 35 ||
    c === 126 ||
    c === 42 ||
    c === 36 ||
    c === 94 ||
    c === 123 ||
    c === 124 ||
    c === 125 ||
    c === 96
  );
}

function isDomainChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return isAlnum(c) || c === 45 || c === 46 || isIntl(text, i);
}

/** `[A-Za-z][A-Za-z0-9_.-]*` in `[from, to)`: reads as a field name before `=`. */
function isIdentifier(text: string, from: number, to: number): boolean {
  if (to <= from || !isAlpha(text.charCodeAt(from))) return false;
  for (let i = from + 1; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isAlnum(c) && c !== 95 && c !== 46 && c !== 45) return false;
  }
  return true;
}

/**
 * Start of the local part ending just before `at`: local characters and RFC
 * specials (`o'brien`, `jane&john`, `t!#`), except that specials never start
 * it (`'jane@…'`), a `key=` (or `&key=`) in front is a field name
 * (`user=jane@…`, `?a=1&to=jane@…`), and in a URL path (`/users/jane@…`)
 * only the last segment counts.
 */
function localStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && (isLocalChar(text, start - 1) || isInnerSpecial(text.charCodeAt(start - 1)))) start--;
  const word = start;
  const path = codeAt(text, word - 1) === 58 || codeAt(text, word) === 47;
  for (;;) {
    const eq = indexIn(text, 61, start, at);
    if (eq === -1) break;
    const amp = lastIndexIn(text, 38, start, eq);
    const from = amp !== -1 ? amp + 1 : start;
    if (!isIdentifier(text, from, eq)) break;
    start = eq + 1;
  }
  if (path) {
    const slash = lastIndexIn(text, 47, start, at);
    if (slash !== -1) start = slash + 1;
  }
  while (start < at && isInnerSpecial(text.charCodeAt(start))) start++;
  return start;
}

/**
 * Emails are found from their `@` outwards: `indexOf("@")` skips most of a
 * log chunk at memchr speed, and only the few `@`s pay for expansion.
 * `pkg@1.2.3` and `@types/node` are rejected because the domain needs a
 * dot and an alphabetic (or internationalised) TLD, and the local part must
 * be non-empty.
 */
export const emailDetector: Detector = {
  markers: { email: "[EMAIL]" },
  scan(text: string, out: Span[]): void {
    let at = text.indexOf("@");
    while (at !== -1) {
      let next = at + 1;
      let start = localStart(text, at);
      while (start < at && text.charCodeAt(start) === 46) start++;
      let end = at + 1;
      while (end < text.length && isDomainChar(text, end)) end++;
      while (end > at + 1 && !isAlnum(text.charCodeAt(end - 1)) && !isIntl(text, end - 1)) end--;
      if (start < at && at - start <= 64 && validDomain(text, at + 1, end)) {
        out.push({ start, end, type: "email", priority: 30 });
        next = end;
      }
      at = text.indexOf("@", next);
    }
  },
};

/**
 * Domain in `[from, to)`: at least two labels, no empty label, a TLD of 2+
 * letters (ASCII or internationalised, or punycode `xn--…`).
 */
function validDomain(text: string, from: number, to: number): boolean {
  if (to - from < 4 || to - from > 253) return false;
  const lastDot = lastIndexIn(text, 46, from, to);
  if (lastDot <= from || to - lastDot - 1 < 2) return false;
  if (!text.startsWith("xn--", lastDot + 1)) {
    for (let i = lastDot + 1; i < to; i++) if (!isAlpha(text.charCodeAt(i)) && !isIntl(text, i)) return false;
  }
  let prev = 46;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && (prev === 46 || prev === 45)) return false;
    prev = c;
  }
  return codeAt(text, from) !== 45;
}

// Searches bounded to the address being looked at: `text` is a whole log chunk, and an unbounded
// `indexOf`/`lastIndexOf` per `@` (a line with no `&` or `=`) made dense logs quadratic (0.3 MB/s).
function indexIn(text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}

function lastIndexIn(text: string, code: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (text.charCodeAt(i) === code) return i;
  return -1;
}

import { codeAt, isAlnum, isAlpha } from "../chars.js";
import type { Detector, Span } from "../types.js";

/** `[A-Za-z0-9._%+-]`: the unquoted local-part characters people actually use. */
function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 46;
}

/**
 * Emails are found from their `@` outwards: `indexOf("@")` skips most of a
 * log chunk at memchr speed, and only the few `@`s pay for expansion.
 * `pkg@1.2.3` and `@types/node` are rejected because the domain needs a
 * dot and an alphabetic TLD, and the local part must be non-empty.
 */
export const emailDetector: Detector = {
  markers: { email: "[EMAIL]" },
  scan(text: string, out: Span[]): void {
    let at = text.indexOf("@");
    while (at !== -1) {
      let next = at + 1;
      let start = at;
      while (start > 0 && isLocalChar(text.charCodeAt(start - 1))) start--;
      while (start < at && text.charCodeAt(start) === 46) start++;
      let end = at + 1;
      while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
      while (end > at + 1 && !isAlnum(text.charCodeAt(end - 1))) end--;
      if (start < at && at - start <= 64 && validDomain(text, at + 1, end)) {
        out.push({ start, end, type: "email", priority: 30 });
        next = end;
      }
      at = text.indexOf("@", next);
    }
  },
};

/** Domain in `[from, to)`: at least two labels, no empty label, alphabetic TLD of 2+ letters. */
function validDomain(text: string, from: number, to: number): boolean {
  if (to - from < 4 || to - from > 253) return false;
  const lastDot = text.lastIndexOf(".", to - 1);
  if (lastDot <= from || to - lastDot - 1 < 2) return false;
  for (let i = lastDot + 1; i < to; i++) if (!isAlpha(text.charCodeAt(i))) return false;
  let prev = 46;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && (prev === 46 || prev === 45)) return false;
    prev = c;
  }
  return codeAt(text, from) !== 45;
}

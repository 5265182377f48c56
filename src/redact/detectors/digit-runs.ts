import { codeAt, isAlnum, isDigit } from "../chars.js";

/**
 * Helpers shared by the card and phone detectors: both see groups of digits
 * (`4111 1111 1111 1111`, `020 7946 0958`) and must not take a window out
 * of a longer run such as an IBAN (`FR15 8601 2945 1910 4062 3613 410`).
 */

/** `[A-Z]{2}\d{2}`: an IBAN's country code and check digits. */
function isIbanHead(text: string, from: number, to: number): boolean {
  if (to - from !== 4) return false;
  const a = text.charCodeAt(from);
  const b = text.charCodeAt(from + 1);
  return (
    a >= 65 && a <= 90 && b >= 65 && b <= 90 && isDigit(text.charCodeAt(from + 2)) && isDigit(text.charCodeAt(from + 3))
  );
}

/** An IBAN group: up to four upper-case letters and digits. */
function isIbanGroup(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > 4) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) && !(c >= 65 && c <= 90)) return false;
  }
  return true;
}

/**
 * True when the digits starting at `start` follow an IBAN head through
 * single-space (or dash) separated groups of up to four upper-case letters
 * or digits: `NL90 XPRA 0959 9280 38`, `DE89 3704 0044 …`.
 */
export function afterIbanHead(text: string, start: number): boolean {
  let end = start;
  for (let groups = 0; groups < 9; groups++) {
    const sep = codeAt(text, end - 1);
    if (sep !== 32 && sep !== 45) return false;
    let from = end - 1;
    while (from > 0 && isAlnum(text.charCodeAt(from - 1))) from--;
    const to = end - 1;
    if (isIbanHead(text, from, to)) return true;
    if (!isIbanGroup(text, from, to)) return false;
    end = from;
  }
  return false;
}

/**
 * Whether the group of digits ending just before `pos` (the character at
 * `pos` being a separator) is a group of its own: bounded on its far side by
 * the line start, a blank, the same separator, or punctuation that cannot
 * continue a number. `2024-01-01 4111…` has `01` bounded by `-`, so it is
 * not a space-separated group.
 */
export function groupBefore(text: string, pos: number, sep: number): boolean {
  let k = pos - 1;
  if (!isDigit(codeAt(text, k))) return false;
  while (isDigit(codeAt(text, k - 1))) k--;
  const c = codeAt(text, k - 1);
  return c === -1 || c === sep || c === 9 || c === 32 || !continuesNumber(c);
}

/** The digits of a group starting at `pos` and its end, if the group stands on its own (see {@link groupBefore}). */
export function groupAfter(text: string, pos: number, sep: number): number {
  if (!isDigit(codeAt(text, pos))) return -1;
  let k = pos;
  while (isDigit(codeAt(text, k))) k++;
  const c = codeAt(text, k);
  if (c === -1 || c === 9 || c === 32 || c === 10 || c === 13) return k;
  if (c === sep) return k;
  if (c === 46 && !isDigit(codeAt(text, k + 1))) return k;
  return continuesNumber(c) ? -1 : k;
}

/** Characters that glue digits into something else: letters, `_ - / : . @ + %`. */
function continuesNumber(c: number): boolean {
  return isAlnum(c) || c === 95 || c === 45 || c === 47 || c === 58 || c === 46 || c === 64 || c === 43 || c === 37;
}

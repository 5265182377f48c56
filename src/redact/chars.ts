/**
 * Character-class tests on UTF-16 code units. Detectors expand matches by
 * hand around cheap anchors (`@`, `eyJ`) instead of running a regex from
 * every position, which is what keeps scan-logs above 100 MB/s.
 */

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}

/** `[A-Za-z0-9_]`, the JavaScript `\w`. */
export function isWord(c: number): boolean {
  return isAlnum(c) || c === 95;
}

/** Characters allowed in a key name such as `x-api-key` or `db.password`. */
export function isKeyChar(c: number): boolean {
  return isWord(c) || c === 45 || c === 46;
}

/** Code unit at `i`, or -1 outside the string, so bounds need no special case. */
export function codeAt(text: string, i: number): number {
  return i >= 0 && i < text.length ? text.charCodeAt(i) : -1;
}

import type { Detector, Span } from "./types.js";

/**
 * Personal data in URLs is usually percent-encoded
 * (`?email=jane.doe%40example.com&phone=%2B44%2020%207946%200958`), which
 * hides it from every detector. Each run of URL value characters holding a
 * `%XX` escape is decoded and scanned again, and what is found there is
 * mapped back onto the encoded bytes. `indexOf("%")` skips text without
 * escapes at memchr speed, so logs without URLs pay nothing.
 */
export function scanPercentEncoded(text: string, detectors: readonly Detector[], out: Span[]): void {
  let p = text.indexOf("%");
  while (p !== -1) {
    if (hexValue(text.charCodeAt(p + 1)) < 0 || hexValue(text.charCodeAt(p + 2)) < 0) {
      p = text.indexOf("%", p + 1);
      continue;
    }
    let start = p;
    while (start > 0 && isUrlValueChar(text.charCodeAt(start - 1))) start--;
    let end = p;
    while (end < text.length && isUrlValueChar(text.charCodeAt(end))) end++;
    decodeAndScan(text, start, end, detectors, out);
    p = text.indexOf("%", end);
  }
}

/** Characters of one query value or path segment, escapes included: `A-Z a-z 0-9 % . _ ~ - + ! * ' ( )`. */
function isUrlValueChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 37 ||
    c === 46 ||
    c === 95 ||
    c === 126 ||
    c === 45 ||
    c === 43 ||
    c === 33 ||
    c === 42 ||
    c === 39 ||
    c === 40 ||
    c === 41
  );
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * Decodes `[start, end)` (`%XX` to the byte as one code unit, like the
 * Latin-1 view scan-logs uses; `+` between digits to a space, as form
 * encoding writes `+44+20+7946+0958`), scans it, and maps each span back.
 */
function decodeAndScan(text: string, start: number, end: number, detectors: readonly Detector[], out: Span[]): void {
  let decoded = "";
  const origin: number[] = [];
  for (let i = start; i < end; ) {
    const c = text.charCodeAt(i);
    if (c === 37 && i + 2 < end && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      origin.push(i);
      decoded += String.fromCharCode(hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2)));
      i += 3;
    } else {
      origin.push(i);
      decoded += c === 43 && i > start && isDigitAt(text, i - 1) && isDigitAt(text, i + 1) ? " " : text.charAt(i);
      i++;
    }
  }
  origin.push(end);
  const found: Span[] = [];
  for (const d of detectors) d.scan(decoded, found);
  for (const s of found) {
    const from = origin[s.start] ?? start;
    const to = origin[s.end] ?? end;
    if (to > from) out.push({ start: from, end: to, type: s.type, priority: s.priority });
  }
}

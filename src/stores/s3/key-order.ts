/**
 * S3 lists keys in UTF-8 byte order, which is not JavaScript's UTF-16
 * string order for every character; sorting and range starts follow S3.
 */

/** Compares two object keys the way S3 orders them (UTF-8 bytes). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Unique keys in S3 listing order. */
export function sortedKeys(keys: Iterable<string>): string[] {
  return [...new Set(keys)].sort(compareKeys);
}

/**
 * A listing start (`StartAfter`/`KeyMarker`, both exclusive) that is
 * strictly before `key` and as close to it as is simple to get right, so a
 * range listing includes `key` itself and few keys before it.
 *
 * @example
 * startBefore("logs/b"); // "logs/a\u{10FFFF}": lists "logs/b" and later
 */
export function startBefore(key: string): string | undefined {
  const cps = [...key];
  const last = cps.pop();
  if (last === undefined) return undefined;
  const code = last.codePointAt(0) ?? 0;
  // Plain ASCII: the previous character followed by the highest code point.
  // Anything else: drop the last character (a proper prefix is always smaller).
  if (code > 0x20 && code < 0x80) return `${cps.join("")}${String.fromCodePoint(code - 1)}\u{10FFFF}`;
  return cps.length > 0 ? cps.join("") : undefined;
}

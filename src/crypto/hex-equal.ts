import { timingSafeEqual } from "node:crypto";

/**
 * Whether a stored hex MAC (or hash) is the expected one, compared in constant time. Anything that is not
 * lowercase hex of the same length, or null, is unequal: lethe writes every MAC in lowercase hex, so another
 * spelling was not written by lethe. The one comparison behind every sealed row (head, mark, signing keys,
 * intents, holds).
 *
 * @example
 * hexEqual(headMac(chainKey, head), row.mac); // false for null, "", "ABC…" or a MAC under another key
 */
export function hexEqual(want: string, got: string | null | undefined): boolean {
  if (typeof got !== "string" || got.length !== want.length || !/^[0-9a-f]*$/.test(got)) return false;
  return timingSafeEqual(Buffer.from(want, "hex"), Buffer.from(got, "hex"));
}

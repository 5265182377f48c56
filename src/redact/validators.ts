/**
 * Check-digit validators. They run only on candidates a detector's regex has
 * already found, so they may allocate a little; they must never throw.
 */
import { IBAN_LENGTHS } from "./iban-lengths.js";

/**
 * Luhn (mod 10) check over the digits of `value`; other characters are skipped.
 *
 * @example
 * luhnValid("4111 1111 1111 1111"); // true
 */
export function luhnValid(value: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/**
 * IBAN check: known country, the registry length for it, and mod-97 == 1.
 * Spaces are ignored; letters must be upper case.
 *
 * @example
 * ibanValid("DE89 3704 0044 0532 0130 00"); // true
 */
export function ibanValid(value: string): boolean {
  const iban = value.replace(/ /g, "");
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined || iban.length !== expected) return false;
  // Move the first four characters to the end and reduce piecewise so the
  // number never exceeds 2^53 (letters become two digits, A=10 … Z=35).
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/**
 * US SSN structure rules (area not 000/666/9xx, group not 00, serial not 0000).
 *
 * @example
 * ssnValid("123-45-6789"); // true
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === "000" || area === "666" || area.charCodeAt(0) === 57) return false;
  return group !== "00" && serial !== "0000";
}

/**
 * A JWT header must decode (base64url) to a JSON object naming `alg` or `typ`;
 * this rejects random dotted base64 that merely starts with `eyJ`.
 *
 * @example
 * jwtHeaderValid("eyJhbGciOiJIUzI1NiJ9"); // true
 */
export function jwtHeaderValid(segment: string): boolean {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof parsed === "object" && parsed !== null && ("alg" in parsed || "typ" in parsed);
  } catch {
    return false;
  }
}

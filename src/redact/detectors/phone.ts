import { codeAt, isDigit } from "../chars.js";
import { afterIbanHead } from "./digit-runs.js";
import { type Probe, probe } from "./regex-detector.js";

/**
 * Phone numbers in three shapes, each needing structure a plain id lacks:
 * - international: `+` then 8–15 digits (`+15716506109`, `+44 20 7946 0958`);
 * - North American with separators: `(555) 123-4567`, `555.123.4567`,
 *   `1-555-123-4567`;
 * - national with a trunk `0` and one consistent separator:
 *   `020 7946 0958`, `06 12 34 56 78`, `01524 26415`, `(0225) 043776636`.
 * Look-alikes are rejected: SSN-shaped 3-2-4 groups, ZIP+4, NANP area codes
 * starting with 0 or 1, groups after an IBAN head, and numbers right after an
 * id word (`sku`, `zip`, `order`, `ref`…).
 * Bare digit runs are never phones here (`0172588120` is missed on purpose):
 * they are ids and timestamps far more often.
 */
const INTL = "\\+(?:\\d[ .()-]{0,2}){7,14}\\d(?!\\d)";
const NANP = "(?:1[ .-])?(?:\\(\\d{3}\\) ?|\\d{3}[.-])\\d{3}[.-]\\d{4}(?![\\w]|[.-]\\d)";
const TRUNK =
  "(?:\\(0[1-9]\\d{1,3}\\)|0[1-9]\\d{0,4})(?<trunkSep>[ .-])(?:\\d{2,4}(?:\\k<trunkSep>\\d{2,4}){1,3}|\\d{4,9})(?![\\w]|[ .-]\\d)";

export const PHONE_SOURCES: readonly string[] = [INTL, NANP, TRUNK];

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) n++;
  return n;
}

/**
 * Space-grouped national numbers look like any other digit groups, so more
 * groups on either side (`DE89 3704 0044 0532 0130 01`) mean something longer.
 */
function midSequence(text: string, start: number, end: number): boolean {
  const sepBefore = codeAt(text, start - 1) === 32;
  const sepAfter = codeAt(text, end) === 32;
  return (sepBefore && isDigit(codeAt(text, start - 2))) || (sepAfter && isDigit(codeAt(text, end + 1)));
}

/** Words after which a digit group is an identifier, not a phone number (`sku 0123-456-789`, `zip 02134-1234`). */
const ID_CONTEXT =
  /(?<![a-z])(?:sku|zip|zipcode|postcode|postal|isbn|serial|order|invoice|ref|part|item|tracking|ssn|soc|account|acct|iban|bban)[-_a-z]*["']?[ \t]*[:=#]?[ \t]*["']?$/i;

/** Digit group lengths: `044-88-0000` → [3, 2, 4]. */
function groupLengths(s: string): number[] {
  const lens: number[] = [];
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (isDigit(s.charCodeAt(i))) n++;
    else if (n > 0) {
      lens.push(n);
      n = 0;
    }
  }
  if (n > 0) lens.push(n);
  return lens;
}

/**
 * National numbers that are really something else: 3-2-4 is the shape of a
 * US SSN (`044-88-0000`, `032 00 9392`, including invalid ones), 5-4 with a
 * dash a US ZIP+4 (`02134-1234`).
 */
function trunkLookAlike(m: string): boolean {
  const lens = groupLengths(m);
  if (lens.length === 3 && lens[0] === 3 && lens[1] === 2 && lens[2] === 4) return true;
  return lens.length === 2 && lens[0] === 5 && lens[1] === 4 && m.includes("-");
}

/** North American area codes start with 2–9 (`100-200-3000` is not a number). */
function nanpAreaValid(m: string): boolean {
  let i = 0;
  if (m.charCodeAt(0) === 49 && !isDigit(m.charCodeAt(1))) i = 2;
  while (i < m.length && !isDigit(m.charCodeAt(i))) i++;
  const c = m.charCodeAt(i);
  return c >= 50 && c <= 57;
}

type Kind = "intl" | "nanp" | "trunk";

function phoneProbe(lookbehind: string, source: string, minDigits: number, kind: Kind): Probe {
  return probe("phone", 45, `(?<!${lookbehind})${source}`, "", (m, text) => {
    const end = m.index + m[0].length;
    const n = digitCount(m[0]);
    if (n < minDigits || n > 15) return undefined;
    if (kind === "trunk" && (midSequence(text, m.index, end) || trunkLookAlike(m[0]))) return undefined;
    if (kind === "nanp" && !nanpAreaValid(m[0])) return undefined;
    if (kind !== "intl") {
      if (afterIbanHead(text, m.index)) return undefined;
      if (ID_CONTEXT.test(text.slice(Math.max(0, m.index - 24), m.index))) return undefined;
    }
    return [m.index, end];
  });
}

export const phoneProbes: readonly Probe[] = [
  phoneProbe("[\\w+]", INTL, 8, "intl"),
  phoneProbe("[\\w.+-]", NANP, 10, "nanp"),
  phoneProbe("[\\w.+-]", TRUNK, 9, "trunk"),
];

import { codeAt, isDigit } from "../chars.js";
import { type Probe, probe } from "./regex-detector.js";

/**
 * Phone numbers in three shapes, each needing structure a plain id lacks:
 * - international: `+` then 8–15 digits (`+15716506109`, `+44 20 7946 0958`);
 * - North American with separators: `(555) 123-4567`, `555.123.4567`,
 *   `1-555-123-4567`;
 * - national with a trunk `0` and one consistent separator:
 *   `020 7946 0958`, `06 12 34 56 78`, `01524 26415`, `(0225) 043776636`.
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

function phoneProbe(lookbehind: string, source: string, minDigits: number, standalone: boolean): Probe {
  return probe("phone", 45, `(?<!${lookbehind})${source}`, "", (m, text) => {
    const end = m.index + m[0].length;
    const n = digitCount(m[0]);
    if (n < minDigits || n > 15 || (standalone && midSequence(text, m.index, end))) return undefined;
    return [m.index, end];
  });
}

export const phoneProbes: readonly Probe[] = [
  phoneProbe("[\\w+]", INTL, 8, false),
  phoneProbe("[\\w.+-]", NANP, 10, false),
  phoneProbe("[\\w.+-]", TRUNK, 9, true),
];

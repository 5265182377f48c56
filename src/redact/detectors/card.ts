import { luhnValid } from "../validators.js";
import { type Probe, probe } from "./regex-detector.js";

/**
 * Payment cards: 13–19 digits, optionally grouped by single spaces or dashes,
 * starting with a major-network digit (2–6), passing Luhn. Epoch timestamps
 * (start with 1), UUID segments and hex hashes (bounded by letters or
 * dashes) never reach the Luhn check.
 */
export const CARD_SOURCE = "[2-6]\\d{3}(?:[ -]?\\d){9,15}(?![\\w]|[.-]\\d)";

/** `DE89 3704 0044 …`: the digits after a country code and check digits are an account number. */
const IBAN_HEAD = /[A-Z]{2}\d{2}[ -]$/;

export const cardProbe: Probe = probe("card", 20, `(?<![\\w.+-])${CARD_SOURCE}`, "", (m, text) => {
  if (IBAN_HEAD.test(text.slice(Math.max(0, m.index - 5), m.index))) return undefined;
  const end = validCardPrefix(m[0]);
  return end === 0 ? undefined : [m.index, m.index + end];
});

/**
 * Length of the longest prefix of `candidate`, ending at a group boundary,
 * that is a plausible card; 0 if none. A greedy match can swallow a trailing
 * group (`4111 1111 1111 1111 12`), so shorter groupings are tried too.
 */
export function validCardPrefix(candidate: string): number {
  const ends = [candidate.length];
  for (let i = candidate.length - 1; i > 0; i--) {
    const c = candidate.charCodeAt(i);
    if (c === 32 || c === 45) ends.push(i);
  }
  for (const end of ends) {
    const groups = candidate.slice(0, end).split(/[ -]/);
    const digits = groups.join("");
    if (digits.length < 13 || digits.length > 19 || !cardGrouping(groups)) continue;
    if (digits.charCodeAt(0) === 51 && !"045678".includes(digits.charAt(1))) continue;
    if (luhnValid(digits)) return end;
  }
  return 0;
}

/**
 * Printed cards are grouped 4-4-4-4(-1..3), 4-6-5 (Amex) or 4-6-4 (Diners),
 * or not at all; other groupings are phone numbers, ids or IBAN tails.
 */
function cardGrouping(groups: readonly string[]): boolean {
  if (groups.length === 1) return true;
  const lens = groups.map((g) => g.length);
  if (lens.length === 3 && lens[0] === 4 && lens[1] === 6) return lens[2] === 4 || lens[2] === 5;
  const last = lens[lens.length - 1] ?? 0;
  return lens.slice(0, -1).every((n) => n === 4) && last >= 1 && last <= 4;
}

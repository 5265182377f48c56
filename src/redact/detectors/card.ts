import { codeAt, isDigit } from "../chars.js";
import { luhnValid } from "../validators.js";
import { afterIbanHead, groupAfter, groupBefore } from "./digit-runs.js";
import { type Probe, probe } from "./regex-detector.js";

/**
 * Payment cards: 13–19 digits, optionally grouped by single spaces or dashes,
 * starting with a major-network digit (2–6), passing Luhn. Epoch timestamps
 * (start with 1), UUID segments and hex hashes (bounded by letters or
 * dashes) never reach the Luhn check.
 */
export const CARD_SOURCE = "[2-6]\\d{3}(?:[ -]?\\d){9,15}(?![\\w]|[.-]\\d)";

/**
 * The candidate is judged as the whole run of digit groups it belongs to,
 * never as a window of it: a run that continues to the left (another group,
 * or an IBAN head such as `FR15 8601 …`) is not a card, and to the right only
 * short groups may follow (an expiry `12 25` or a CVV `123`), not another
 * group of four.
 */
export const cardProbe: Probe = probe("card", 20, `(?<![\\w.+-])${CARD_SOURCE}`, "", (m, text) => {
  const start = m.index;
  const first = text.charCodeAt(start + 4);
  // The separator of a grouped card (the first group is always 4 digits); a
  // plain card is checked against space-separated neighbours.
  const sep = first === 32 || first === 45 ? first : -1;
  const near = sep === -1 ? 32 : sep;
  if (codeAt(text, start - 1) === near && groupBefore(text, start - 1, near)) return undefined;
  if (afterIbanHead(text, start)) return undefined;
  const lens: number[] = [];
  let j = start;
  for (;;) {
    let k = j;
    while (isDigit(codeAt(text, k))) k++;
    lens.push(k - j);
    j = k;
    if (sep === -1 || codeAt(text, j) !== sep || groupAfter(text, j + 1, sep) === -1) break;
    j++;
  }
  // Trailing groups after the run: short ones only.
  const tail: number[] = [];
  let t = j;
  while (codeAt(text, t) === near) {
    const e = groupAfter(text, t + 1, near);
    if (e === -1) break;
    tail.push(e - t - 1);
    t = e;
  }
  return cardSpan(text, start, lens, tail);
});

function cardSpan(text: string, start: number, lens: number[], tail: number[]): readonly [number, number] | undefined {
  const all = [...lens, ...tail];
  // The whole run first (4-4-4-4-3 is a 19-digit card)…
  for (let n = all.length; n >= 1; n--) {
    const groups = all.slice(0, n);
    const rest = all.slice(n);
    // …then shorter prefixes, but only when what is cut off is short groups.
    // A 1-digit group is part of the number (4-4-4-4-1 is a 17-digit id), never an expiry or a CVV.
    if (rest.length > 2 || rest.some((g) => g >= 4 || g < 2)) break;
    let end = start;
    for (let g = 0; g < groups.length; g++) end += (groups[g] ?? 0) + (g > 0 ? 1 : 0);
    const raw = text.slice(start, end);
    const digits = raw.replace(/[ -]/g, "");
    if (digits.length < 13 || digits.length > 19 || !cardGrouping(groups)) continue;
    if (digits.charCodeAt(0) === 51 && !"045678".includes(digits.charAt(1))) continue;
    if (luhnValid(digits)) return [start, end];
  }
  return undefined;
}

/**
 * Printed cards are grouped 4-4-4-4(-1..3), 4-6-5 (Amex) or 4-6-4 (Diners),
 * or not at all; other groupings are phone numbers, ids or IBAN tails.
 */
function cardGrouping(lens: readonly number[]): boolean {
  if (lens.length === 1) return true;
  if (lens.length === 3 && lens[0] === 4 && lens[1] === 6) return lens[2] === 4 || lens[2] === 5;
  const last = lens[lens.length - 1] ?? 0;
  return lens.slice(0, -1).every((n) => n === 4) && last >= 1 && last <= 4;
}

/**
 * Length of `candidate` if it is a plausible card as a whole (13–19 digits,
 * optionally grouped as above, a network prefix, Luhn), otherwise 0.
 */
export function validCardPrefix(candidate: string): number {
  const lens = candidate.split(/[ -]/).map((g) => g.length);
  const span = /^[2-6]/.test(candidate) ? cardSpan(candidate, 0, lens, []) : undefined;
  return span && span[1] === candidate.length ? span[1] : 0;
}

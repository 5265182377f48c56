import { createRedactor, type Redactor } from "../redact/redactor.js";

let redactor: Redactor | undefined;
const cache = new Map<string, string>();
const patternCache = new Map<string, RegExp | null>();

/** What besides the detectors' hits is masked in one text. */
export interface ScrubContext {
  /** Subject ids the text is about (a hold's, a request's): masked as `[SUBJECT]`, any case. */
  subjects?: (string | null | undefined)[];
  /** Item keys the text is about (an entry's own key): masked as `[KEY]`. */
  keys?: (string | number | null | undefined)[];
  /**
   * Configured subject patterns (`users/{subject}/**`, `cache:prompt:{subject}:*`): wherever the text
   * carries what the pattern's literal lead-in is followed by, that part is masked as `[SUBJECT]`.
   */
  patterns?: readonly string[];
}

/**
 * Free text people type (a hold's reason, an erasure note, a request's
 * reason) and failure reasons end up on the append-only ledger, where
 * nothing can be deleted later: the subject's own id, the entry's own key,
 * anything shaped like a configured subject pattern and whatever the
 * detectors recognise are replaced by markers before it is stored. Reasons
 * repeat ("retention", "erasure"), so detector results are cached.
 *
 * @example
 * scrubFreeText("complaint from jane@example.com"); // "complaint from [EMAIL]"
 * scrubFreeText("ticket for alice-1", { subjects: ["alice-1"] }); // "ticket for [SUBJECT]"
 * scrubFreeText("see users/bob/x.bin", { patterns: ["users/{subject}/**"] }); // "see users/[SUBJECT]/x.bin"
 */
export function scrubFreeText(text: string, ctx: ScrubContext = {}): string {
  // Keys first (a key may contain the subject), then the subject's own id whatever it looks like (`alice-1`).
  for (const k of ctx.keys ?? [])
    if (k !== null && k !== undefined && String(k).length >= 3) text = text.split(String(k)).join("[KEY]");
  for (const s of ctx.subjects ?? []) if (s && s.length >= 2) text = replaceAllCaseless(text, s, "[SUBJECT]");
  for (const p of ctx.patterns ?? []) {
    const re = patternRe(p);
    if (re) text = text.replace(re, (_m, lead: string) => `${lead}[SUBJECT]`);
  }
  let out = cache.get(text);
  if (out === undefined) {
    redactor ??= createRedactor();
    out = redactor.redactText(text);
    if (cache.size >= 2000) cache.clear();
    cache.set(text, out);
  }
  // The id masked inside an address (`carol@mail.example` for subject `carol`) hides it from the email detector:
  // the rest of the address (`[SUBJECT].smith@carol-smith.example`) can still name the person.
  return out.includes("]") ? out.replace(MARKED_EMAIL, "[EMAIL]") : out;
}

/** An email address whose local part holds a `[SUBJECT]` or `[KEY]` marker. */
const MARKED_EMAIL = /[\w.+-]*\[(?:SUBJECT|KEY)\][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/**
 * The literal text just before `{subject}` (back to the last wildcard), then
 * the subject up to the next separator. A pattern that starts with
 * `{subject}` has no lead-in to find it by and masks nothing here.
 */
function patternRe(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re !== undefined) return re;
  const before = pattern.split("{subject}")[0] ?? "";
  const lead = before.split(/[*?[\]{}]/).pop() ?? "";
  const after = pattern.slice(before.length + "{subject}".length);
  const stop = after[0] && !/[*?[{]/.test(after[0]) ? after[0] : "/";
  re = lead.length < 2 ? null : new RegExp(`(${escapeRe(lead)})(?!\\[SUBJECT\\])[^${escapeClass(stop)}\\s'"]+`, "g");
  patternCache.set(pattern, re);
  return re;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClass(s: string): string {
  return s.replace(/[\]\\^-]/g, "\\$&");
}

function replaceAllCaseless(text: string, needle: string, by: string): string {
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  let out = "";
  let from = 0;
  for (let i = lower.indexOf(n); i !== -1; i = lower.indexOf(n, from)) {
    out += text.slice(from, i) + by;
    from = i + n.length;
  }
  return out + text.slice(from);
}

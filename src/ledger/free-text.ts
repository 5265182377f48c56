import { createRedactor, type Redactor } from "../redact/redactor.js";

let redactor: Redactor | undefined;
const cache = new Map<string, string>();

/**
 * Free text people type (a hold's reason, an erasure note, a request's
 * reason) ends up on the append-only ledger, where nothing can be deleted
 * later: personal data the detectors recognise in it is replaced by markers
 * before it is stored. Reasons repeat ("retention", "erasure"), so results
 * are cached.
 *
 * @example
 * scrubFreeText("complaint from jane@example.com"); // "complaint from [EMAIL]"
 * scrubFreeText("ticket for alice-1", ["alice-1"]); // "ticket for [SUBJECT]"
 */
export function scrubFreeText(text: string, subjects: (string | null | undefined)[] = []): string {
  // The subject's own id is personal data whatever it looks like (`alice-1`): masked before the detectors run.
  for (const s of subjects) if (s && s.length >= 2) text = replaceAllCaseless(text, s, "[SUBJECT]");
  let out = cache.get(text);
  if (out === undefined) {
    redactor ??= createRedactor();
    out = redactor.redactText(text);
    if (cache.size >= 2000) cache.clear();
    cache.set(text, out);
  }
  return out;
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

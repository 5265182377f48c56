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
 */
export function scrubFreeText(text: string): string {
  let out = cache.get(text);
  if (out === undefined) {
    redactor ??= createRedactor();
    out = redactor.redactText(text);
    if (cache.size >= 2000) cache.clear();
    cache.set(text, out);
  }
  return out;
}

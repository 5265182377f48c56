import { compareKeys, sortedKeys, startBefore } from "./key-order.js";
import type { KeyState } from "./key-state.js";
import type { Lister } from "./listing.js";

/** Fewer keys than this are looked up one by one (HEAD / one version listing each). */
const SINGLE_LOOKUP_MAX = 8;
/** A range listing that finds fewer wanted keys than this per page switches to single lookups. */
const MIN_HITS_PER_PAGE = 10;
const LOOKUP_CONCURRENCY = 16;

/**
 * The current state of the given keys (all under `prefix`), fresh from the
 * server. Dense key sets (a batch from a scan) are read with a range listing
 * from the first key to the last, one request per 1,000 keys; sparse ones
 * (a plan file, event artifacts) fall back to one lookup per key, so cost
 * stays near min(range pages, keys). Absent keys are simply missing.
 *
 * @example
 * const states = await lookupKeys(lister, "uploads/", ["uploads/a.bin", "uploads/b.bin"]);
 */
export async function lookupKeys(lister: Lister, prefix: string, keys: string[]): Promise<Map<string, KeyState>> {
  const wanted = sortedKeys(keys);
  const found = new Map<string, KeyState>();
  if (wanted.length === 0) return found;
  let rest = wanted;
  if (wanted.length > SINGLE_LOOKUP_MAX) rest = await rangeLookup(lister, prefix, wanted, found);
  await singleLookups(lister, rest, found);
  return found;
}

/** Lists from the first wanted key on; returns the wanted keys it did not get to. */
async function rangeLookup(
  lister: Lister,
  prefix: string,
  wanted: string[],
  found: Map<string, KeyState>,
): Promise<string[]> {
  const set = new Set(wanted);
  const last = wanted[wanted.length - 1] as string;
  let pages = 0;
  let hits = 0;
  let reached: string | undefined;
  let complete = true;
  for await (const page of lister.pages(prefix, startBefore(wanted[0] as string))) {
    pages++;
    for (const s of page) {
      if (set.has(s.key)) {
        found.set(s.key, s);
        hits++;
      }
    }
    const tail = page[page.length - 1];
    if (tail) reached = tail.key;
    if (reached !== undefined && compareKeys(reached, last) >= 0) return [];
    if (pages >= 2 && hits < pages * MIN_HITS_PER_PAGE) {
      complete = false; // sparse: single lookups are cheaper than listing on
      break;
    }
  }
  if (complete) return []; // listed to the end: what was not seen does not exist
  const upTo = reached;
  // Keys at or before the last listed key were either seen or do not exist.
  return upTo === undefined ? wanted : wanted.filter((k) => compareKeys(k, upTo) > 0);
}

async function singleLookups(lister: Lister, keys: string[], found: Map<string, KeyState>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      const s = await lister.one(key);
      if (s) found.set(key, s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, keys.length) }, worker));
}

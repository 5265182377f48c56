import type { StateHandle } from "../state/open-state.js";
import { latestAnchor, verifyAnchor } from "./anchor.js";
import { entryHash, GENESIS } from "./canonical.js";
import { FrontierBuilder, rootOf } from "./merkle.js";
import { ledgerRows } from "./query.js";
import { type Checkpoint, verifyCheckpoint } from "./signing.js";

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstBad?: number;
  reason?: string;
  checkpoints: number;
  /** Set when the ledger was pruned: verification started from this signed anchor. */
  anchor?: { size: number; before: string };
}

const PAGE = 10_000;

/**
 * Recomputes the whole chain and Merkle tree from the stored rows, checks
 * every stored checkpoint's signature and root, and, given an exported
 * checkpoint, that the ledger still extends it (catches truncation and
 * rewritten-and-re-signed history).
 *
 * @example
 * const r = await verifyLedger(state, publicKeyPem); if (!r.ok) console.log(r.firstBad, r.reason);
 */
export async function verifyLedger(
  state: StateHandle,
  publicPem: string,
  external?: Checkpoint,
): Promise<VerifyResult> {
  // Other instances may append while this runs: the head read first bounds what is verified, so a
  // live ledger is checked as of one consistent moment (the head commits with its rows).
  const head = await readHead(state);
  const stored = (await state.db.selectFrom("checkpoints").selectAll().orderBy("size").execute()).map((c) => ({
    ...c,
    size: Number(c.size),
  }));
  const wanted = new Map<number, Checkpoint[]>();
  // Checkpoints older than a prune anchor cannot be checked against entries that are gone (prune removes them).
  for (const c of external ? [...stored, external] : stored) {
    wanted.set(c.size, [...(wanted.get(c.size) ?? []), c]);
  }
  const fail = (entries: number, firstBad: number | undefined, reason: string): VerifyResult => ({
    ok: false,
    entries,
    ...(firstBad !== undefined ? { firstBad } : {}),
    reason,
    checkpoints: stored.length,
  });
  const checkAt = (size: number, frontier: FrontierBuilder): string | undefined => {
    for (const c of wanted.get(size) ?? []) {
      const label = c === external ? "the given checkpoint" : `checkpoint at size ${size}`;
      if (!verifyCheckpoint(publicPem, c)) return `${label} has an invalid signature`;
      if (frontier.root() !== c.root) return `${label} does not match the ledger: history was rewritten`;
    }
    return undefined;
  };

  // A pruned ledger starts from its signed anchor instead of the genesis.
  const anchor = await latestAnchor(state);
  const start = anchor?.size ?? 0;
  if (anchor) {
    if (!verifyAnchor(publicPem, anchor)) return fail(start, start, "the prune anchor has an invalid signature");
    if (rootOf(anchor.frontier) !== anchor.root)
      return fail(start, start, "the prune anchor's Merkle frontier does not match its signed root");
    if (external && external.size < start)
      return fail(
        start,
        undefined,
        `the given checkpoint (size ${external.size}) predates the prune anchor (size ${start}, entries before ${anchor.before}): the entries it covers were pruned, so it can no longer be checked`,
      );
  }
  let expected = start + 1;
  let prev = anchor?.hash ?? GENESIS;
  let pastHead: number | undefined;
  const frontier = anchor ? new FrontierBuilder(anchor.frontier, start) : new FrontierBuilder();
  const bad = checkAt(start, frontier);
  if (bad) return fail(start, undefined, bad);
  for await (const row of ledgerRows(state, PAGE, start)) {
    const seq = Number(row.seq);
    if (head && seq > head.seq) {
      pastHead = seq;
      break;
    }
    if (seq !== expected) return fail(expected - 1, expected, `entry ${expected} is missing (sequence gap)`);
    if (row.prev_hash !== prev)
      return fail(expected - 1, seq, `entry ${seq} does not link to entry ${seq - 1} (prevHash)`);
    if (entryHash(prev, row) !== row.hash) return fail(expected - 1, seq, `entry ${seq} was altered (hash mismatch)`);
    frontier.add(row.hash);
    prev = row.hash;
    const cpBad = checkAt(seq, frontier);
    if (cpBad) return fail(seq, seq, cpBad);
    expected += 1;
  }
  const size = expected - 1;
  if (!head || head.seq !== size || head.hash !== prev) {
    return fail(size, size + 1, `the ledger head says ${head?.seq} entries but ${size} verify: entries were removed`);
  }
  // A stored checkpoint past the verified head is fine if the ledger has grown to it since; one past
  // the current head means entries it signed are gone. The given checkpoint predates this run.
  const now = (await readHead(state))?.seq ?? 0;
  if (pastHead !== undefined && pastHead > now)
    return fail(size, pastHead, `entry ${pastHead} lies beyond the ledger head: the head was rolled back`);
  const beyond = [...wanted.entries()]
    .filter(([s, cps]) => s > size && (s > now || (external !== undefined && cps.includes(external))))
    .map(([s]) => s);
  if (beyond.length > 0) {
    const max = Math.max(...beyond);
    return fail(
      size,
      size + 1,
      `a signed checkpoint covers ${max} entries but the ledger has ${size}: it was truncated`,
    );
  }
  return {
    ok: true,
    entries: size,
    checkpoints: stored.length,
    ...(anchor ? { anchor: { size: anchor.size, before: anchor.before } } : {}),
  };
}

async function readHead(state: StateHandle): Promise<{ seq: number; hash: string } | undefined> {
  const h = await state.db.selectFrom("ledger_head").select(["seq", "hash"]).where("id", "=", 1).executeTakeFirst();
  return h && { seq: Number(h.seq), hash: h.hash };
}

import type { StateHandle } from "../state/open-state.js";
import { type Anchor, anchorMessage, latestAnchor } from "./anchor.js";
import { entryHash, GENESIS } from "./canonical.js";
import type { Ledger } from "./ledger.js";
import { FrontierBuilder, rootOf } from "./merkle.js";
import { ledgerRows } from "./query.js";
import { type Checkpoint, checkpointFromRow, checkpointMessage } from "./signing.js";
import type { SigningKeySet } from "./signing-keys.js";

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstBad?: number;
  reason?: string;
  /** Signed checkpoints that were checked against the entries. */
  checkpoints: number;
  /** Set when the ledger was pruned: verification started from this signed anchor. */
  anchor?: { size: number; before: string };
  /** With `captureAt`: the chain hash and Merkle frontier as they stood after that entry. */
  captured?: { hash: string; frontier: string[] };
}

const PAGE = 10_000;
/** A prune that commits mid-verification moves the start; the check is then run again from the new anchor. */
const ATTEMPTS = 3;

/**
 * Recomputes the whole chain and Merkle tree from the stored rows, checks
 * every stored checkpoint's signature and root, and, given an exported
 * checkpoint, that the ledger still extends it (catches truncation and
 * rewritten-and-re-signed history). A pruned ledger is checked from its
 * signed anchor.
 *
 * @example
 * const r = await verifyLedger(state, ledger); if (!r.ok) console.log(r.firstBad, r.reason);
 */
export async function verifyLedger(
  state: StateHandle,
  /** The keys: the signing keys (current and retired) and the chain key that authenticates the head. */
  keys: Pick<Ledger, "signingKeys" | "headIsAuthentic">,
  external?: Checkpoint,
  /** Also report the chain hash and frontier after this entry (pruning signs them; one pass, not two). */
  captureAt?: number,
): Promise<VerifyResult> {
  const signers = await keys.signingKeys();
  const externalBad = external && cpProblem(signers, external);
  if (externalBad) return { ok: false, entries: 0, reason: `the given checkpoint ${externalBad}`, checkpoints: 0 };
  let r: VerifyResult = { ok: false, entries: 0, checkpoints: 0 };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const anchor = await latestAnchor(state);
    r = await verifyOnce(state, keys, signers, anchor, external, captureAt);
    if (r.ok || (await latestAnchor(state))?.size === anchor?.size) return r;
  }
  return r;
}

/** Why a checkpoint's signature is not accepted (its key unknown, the signature bad, the key retired before it). */
function cpProblem(signers: SigningKeySet, c: Checkpoint): string | undefined {
  return signers.problem(c.keyId, c.size, checkpointMessage(c), c.signature);
}

async function verifyOnce(
  state: StateHandle,
  keys: Pick<Ledger, "headIsAuthentic">,
  signers: SigningKeySet,
  anchor: Anchor | undefined,
  external: Checkpoint | undefined,
  captureAt: number | undefined,
): Promise<VerifyResult> {
  // Other instances may append while this runs: the head read first bounds what is verified, so a
  // live ledger is checked as of one consistent moment (the head commits with its rows).
  const head = await readHead(state);
  const start = anchor?.size ?? 0;
  // Checkpoints older than the anchor cover entries that are gone: they are passed by, not counted.
  const stored = (await state.db.selectFrom("checkpoints").selectAll().where("size", ">=", start).execute()).map(
    checkpointFromRow,
  );
  const wanted = new Map<number, Checkpoint[]>();
  for (const c of external ? [...stored, external] : stored) wanted.set(c.size, [...(wanted.get(c.size) ?? []), c]);
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
      const bad = cpProblem(signers, c);
      if (bad) return `${label} ${bad}`;
      if (frontier.root() !== c.root) return `${label} does not match the ledger: history was rewritten`;
    }
    return undefined;
  };

  if (anchor) {
    const anchorBad = signers.problem(anchor.keyId, anchor.size, anchorMessage(anchor), anchor.signature);
    if (anchorBad) return fail(0, start, `the prune anchor ${anchorBad}`);
    if (rootOf(anchor.frontier) !== anchor.root)
      return fail(0, start, "the prune anchor's Merkle frontier does not match its signed root");
    if (external && external.size < start)
      return fail(
        0,
        undefined,
        `the given checkpoint (size ${external.size}) predates the prune anchor (size ${start}, entries before ${anchor.before}): the entries it covers were pruned, so it can no longer be checked`,
      );
    const below = await state.db
      .selectFrom("ledger")
      .select("seq")
      .where("seq", "<=", start)
      .orderBy("seq")
      .limit(1)
      .executeTakeFirst();
    if (below)
      return fail(
        0,
        Number(below.seq),
        `entry ${below.seq} lies in the pruned range (the anchor covers entries up to ${start}): it was inserted afterwards`,
      );
  }
  let expected = start + 1;
  let prev = anchor?.hash ?? GENESIS;
  let pastHead: number | undefined;
  let captured: VerifyResult["captured"];
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
    if (seq === captureAt) captured = { hash: prev, frontier: frontier.toHex() };
    const cpBad = checkAt(seq, frontier);
    if (cpBad) return fail(seq, seq, cpBad);
    expected += 1;
  }
  const size = expected - 1;
  if (!head || head.seq !== size)
    return fail(size, size + 1, `the ledger head says ${head?.seq} entries but ${size} verify: entries were removed`);
  if (head.hash !== prev)
    return fail(size, size, `the ledger head's hash is not entry ${size}'s: the head was altered`);
  // A stored checkpoint past the verified head is fine if the ledger has grown to it since; one past
  // the current head means entries it signed are gone. The given checkpoint predates this run.
  const now = (await readHead(state))?.seq ?? 0;
  if (pastHead !== undefined && pastHead > now)
    return fail(size, pastHead, `entry ${pastHead} lies beyond the ledger head: the head was rolled back`);
  const beyond = [...wanted.entries()]
    .filter(([s, cps]) => s > size && (s > now || (external !== undefined && cps.includes(external))))
    .map(([s]) => s);
  if (beyond.length > 0)
    return fail(
      size,
      size + 1,
      `a signed checkpoint covers ${Math.max(...beyond)} entries but the ledger has ${size}: it was truncated`,
    );
  // The head's frontier is what the next append and checkpoint build on: it must be the recomputed one.
  if (head.frontier !== JSON.stringify(frontier.toHex()))
    return fail(size, size, "the ledger head's Merkle frontier does not match the entries: the head was altered");
  // The chain hash commits to every entry and the MAC to the hash, size and frontier: without the chain
  // key (derived from the master key) nobody can append, rewrite or truncate and re-seal the head.
  if (
    !keys.headIsAuthentic(
      { seq: head.seq, hash: head.hash, frontier: head.frontier, keyedFrom: head.keyedFrom },
      head.mac,
    )
  )
    return fail(
      size,
      size,
      "the ledger head is not authentic (its MAC does not match): entries were appended, rewritten or removed without lethe's key",
    );
  return {
    ok: true,
    entries: size,
    checkpoints: stored.filter((c) => c.size <= size).length,
    ...(anchor ? { anchor: { size: anchor.size, before: anchor.before } } : {}),
    ...(captured ? { captured } : {}),
  };
}

interface StoredHead {
  seq: number;
  hash: string;
  frontier: string;
  mac: string | null;
  keyedFrom: number;
}

async function readHead(state: StateHandle): Promise<StoredHead | undefined> {
  const h = await state.db
    .selectFrom("ledger_head")
    .select(["seq", "hash", "frontier", "mac", "keyed_from"])
    .where("id", "=", 1)
    .executeTakeFirst();
  return h && { seq: Number(h.seq), hash: h.hash, frontier: h.frontier, mac: h.mac, keyedFrom: Number(h.keyed_from) };
}

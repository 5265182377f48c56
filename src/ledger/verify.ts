import type { LetheConfig } from "../config/types.js";
import type { StateHandle } from "../state/open-state.js";
import { GENESIS } from "./canonical.js";
import type { HeadState } from "./head-mac.js";
import { scanInWorker } from "./scan-in-worker.js";
import { type ScanOptions, type ScanResult, scanLatest } from "./scan-ledger.js";
import { type Checkpoint, checkpointMessage } from "./signing.js";
import type { SigningKeySet } from "./signing-keys.js";
import { checkpointTally, readMark, storeMark, type VerifiedMark } from "./verified-mark.js";

/** What `audit verify` answers: the scan's findings (its internal head and frontier left out), plus the mark. */
export interface VerifyResult extends Omit<ScanResult, "head" | "frontier" | "checkpointsUpTo"> {
  /** Whether every entry was re-read (`full`, or no usable verified mark), else only those after `from`. */
  full: boolean;
  /** Worth knowing, not a failure (e.g. a verified mark that did not authenticate and was ignored). */
  notes?: string[];
  /** When ok: how far the ledger verified (what a checkpoint may sign). */
  mark?: VerifiedMark;
}

/** The keys verification needs: the signing keys (current and retired) and the chain key behind the MACs. */
export interface VerifyKeys {
  signingKeys(): Promise<SigningKeySet>;
  headIsAuthentic(h: HeadState, mac: string | null): boolean;
  markMac(m: VerifiedMark): string;
  markIsAuthentic(m: VerifiedMark, mac: string): boolean;
  /** Keys the salts of v2 batch items (items.ts). */
  readonly saltKey: Buffer;
}

export interface VerifyOptions {
  /** Re-check every entry instead of only those after the last verified mark. */
  full?: boolean | undefined;
  /** An exported checkpoint the ledger must still extend (catches truncation and re-signed history). */
  checkpoint?: Checkpoint | undefined;
  /** Store how far the ledger verified, so the next run starts there (never from a GET). */
  record?: boolean | undefined;
  /** Also report the chain hash and frontier after this entry (pruning signs them; one pass, not two). */
  captureAt?: number | undefined;
  /** Run the pass in a worker thread with its own read connection to this state. */
  worker?: LetheConfig["state"] | undefined;
  /** Report entries that waited longer than this for a signed checkpoint (seconds). */
  checkpointEverySeconds?: number | undefined;
  /** The time the uncovered tail is measured against (default: now). */
  now?: Date | undefined;
}

/**
 * Verifies the ledger: chain, Merkle tree, stored checkpoints, prune anchor,
 * the head's MAC and, given an exported checkpoint, that the ledger still
 * extends it. Incremental by default: entries up to the last verified mark
 * (MAC'd with the chain key) are not read again; `full` re-reads them all.
 * Streams a page at a time; with `worker` the pass runs off this thread.
 *
 * @example
 * const r = await verifyLedger(state, ledger, { full: true }); if (!r.ok) console.log(r.firstBad, r.reason);
 */
export async function verifyLedger(state: StateHandle, keys: VerifyKeys, o: VerifyOptions = {}): Promise<VerifyResult> {
  const signers = await keys.signingKeys();
  const notes: string[] = [];
  const externalBad =
    o.checkpoint &&
    signers.problem(o.checkpoint.keyId, o.checkpoint.size, checkpointMessage(o.checkpoint), o.checkpoint.signature);
  if (externalBad)
    return {
      ok: false,
      entries: 0,
      reason: `the given checkpoint ${externalBad}`,
      checkpoints: 0,
      full: o.full === true,
      from: 0,
      read: 0,
    };
  const stored = await readMark(state.db);
  let mark: VerifiedMark | undefined;
  if (stored && keys.markIsAuthentic(stored.mark, stored.mac)) mark = stored.mark;
  else if (stored) notes.push("the stored verification mark does not authenticate: it was ignored");
  // A recorded break stays the answer until a full pass shows the ledger whole again.
  if (mark?.broken && !o.full)
    return {
      ok: false,
      entries: mark.seq,
      ...(mark.broken.seq !== null ? { firstBad: mark.broken.seq } : {}),
      reason: `${mark.broken.reason} (recorded by the verification of ${mark.broken.at}; it stays reported and no checkpoint is signed until lethe audit verify --full passes, e.g. after restoring the state from a backup)`,
      checkpoints: 0,
      full: false,
      from: mark.seq,
      read: 0,
    };
  const options: Omit<ScanOptions, "anchor"> = {
    signers: [...signers.keys],
    saltKey: keys.saltKey,
    mark,
    full: o.full,
    external: o.checkpoint,
    captureAt: o.captureAt,
    checkpointEveryMs: o.checkpointEverySeconds === undefined ? undefined : o.checkpointEverySeconds * 1000,
    nowMs: (o.now ?? new Date()).getTime(),
    // On the calling thread (a run's closing checkpoint, also in serve) small pages keep each stretch of
    // synchronous work short (SQLite reads block); a worker reads larger pages.
    page: o.worker ? 5000 : 1000,
  };
  const r = o.worker ? await scanInWorker(o.worker, options) : await scanLatest(state.db, options);
  // Without a mark nothing says how many checkpoints an earlier pass counted: say so rather than stay silent
  // (deleting the mark with the checkpoints would otherwise leave no trace until the coverage warning).
  if (!stored && r.entries > 0)
    notes.push(
      "no verification mark was stored (the first recorded verification, or the mark was deleted): checkpoints deleted before this pass cannot be told from checkpoints never made",
    );
  return finish(state, keys, r, o, notes);
}

async function finish(
  state: StateHandle,
  keys: VerifyKeys,
  r: ScanResult,
  o: VerifyOptions,
  notes: string[],
): Promise<VerifyResult> {
  const { head, frontier, checkpointsUpTo, ...rest } = r;
  const out: VerifyResult = {
    ...rest,
    // A pass asked to be full read from the anchor even when it failed before finding one (a deleted anchor).
    full: o.full === true || r.from === (r.anchor?.size ?? 0),
    ...(notes.length > 0 ? { notes } : {}),
  };
  if (!r.ok || !head || !frontier) {
    if (!r.ok && !r.aboutGivenCheckpoint) await recordBreak(state, keys, out, o);
    return out;
  }
  // The chain hash commits to every entry and the MAC to the hash, size and frontier: without the chain
  // key (derived from the master key) nobody can append, rewrite or truncate and re-seal the head.
  if (
    !keys.headIsAuthentic(
      { seq: head.seq, hash: head.hash, frontier: head.frontier, keyedFrom: head.keyedFrom },
      head.mac,
    )
  ) {
    const bad: VerifyResult = {
      ...out,
      ok: false,
      firstBad: r.entries,
      reason:
        "the ledger head is not authentic (its MAC does not match): entries were appended, rewritten or removed without lethe's key",
    };
    await recordBreak(state, keys, bad, o);
    return bad;
  }
  const tally = checkpointsUpTo ?? { n: 0, digest: "" };
  const mark: VerifiedMark = {
    seq: r.entries,
    hash: head.hash,
    frontier,
    checkpoints: tally.n,
    checkpointsDigest: tally.digest,
  };
  if (o.record) await storeMark(state.db, mark, keys.markMac(mark));
  return { ...out, mark };
}

/**
 * A recording run that found a break keeps it in the mark (MACed like the rest), so the next incremental
 * verify, checkpoint and run report it instead of starting after it; the last good mark stays the base.
 */
async function recordBreak(state: StateHandle, keys: VerifyKeys, r: VerifyResult, o: VerifyOptions): Promise<void> {
  if (!o.record) return;
  const stored = await readMark(state.db);
  const good =
    stored && keys.markIsAuthentic(stored.mark, stored.mac)
      ? stored.mark
      : {
          seq: 0,
          hash: GENESIS,
          frontier: [],
          checkpoints: 0,
          checkpointsDigest: (await checkpointTally(state.db, 0)).digest,
        };
  const mark: VerifiedMark = {
    ...good,
    broken: { seq: r.firstBad ?? null, reason: r.reason ?? "verification failed", at: new Date().toISOString() },
  };
  await storeMark(state.db, mark, keys.markMac(mark));
}

import type { Kysely } from "kysely";
import { LetheError } from "../core/errors.js";
import type { StateDatabase } from "../state/schema.js";
import { headRowProblem } from "../state/state-integrity.js";
import { type Anchor, anchorMessage, latestAnchor } from "./anchor.js";
import { entryHash, GENESIS } from "./canonical.js";
import { CoverageTracker, type UncoveredStretch } from "./coverage.js";
import { isBatchRow, isV1ItemRow } from "./item-query.js";
import { FrontierBuilder, rootOf } from "./merkle.js";
import { ledgerRows } from "./query.js";
import { type Checkpoint, checkpointFromRow, checkpointMessage } from "./signing.js";
import { type SigningKeyRecord, SigningKeySet } from "./signing-keys.js";
import { checkpointTally, type VerifiedMark } from "./verified-mark.js";
import { ItemsChecker } from "./verify-items.js";

/** The head row as read: its MAC is checked by the caller, which holds the chain key (a worker does not). */
export interface StoredHead {
  seq: number;
  hash: string;
  frontier: string;
  mac: string | null;
  keyedFrom: number;
}

export interface ScanOptions {
  /** The authentic signing keys (current and retired): plain data, so they can be handed to a worker. */
  signers: readonly SigningKeyRecord[];
  /** Keys the salts of v2 batch items (Ledger.saltKey): needed to recompute their Merkle roots. */
  saltKey: Uint8Array;
  anchor: Anchor | undefined;
  /** An authenticated verified mark: checked against (deleted checkpoints) and, unless `full`, started from. */
  mark?: VerifiedMark | undefined;
  full?: boolean | undefined;
  external?: Checkpoint | undefined;
  captureAt?: number | undefined;
  /** Report entries that waited longer than this for a checkpoint (ms). */
  checkpointEveryMs?: number | undefined;
  nowMs?: number | undefined;
  page?: number | undefined;
}

export interface ScanResult {
  ok: boolean;
  entries: number;
  firstBad?: number;
  reason?: string;
  /** Signed checkpoints checked against the entries in this pass. */
  checkpoints: number;
  anchor?: { size: number; before: string };
  captured?: { hash: string; frontier: string[] };
  /** The entry verification started after (0, the prune anchor or the verified mark) and rows read. */
  from: number;
  read: number;
  /** When ok: the head verified against, the frontier after the last entry, checkpoints with size ≤ entries. */
  head?: StoredHead;
  frontier?: string[];
  checkpointsUpTo?: { n: number; digest: string };
  /** The failure is about the given checkpoint file, not the stored ledger (not recorded as a break). */
  aboutGivenCheckpoint?: boolean;
  uncovered?: UncoveredStretch[];
  uncoveredMore?: number;
}

/**
 * One streamed pass over the stored ledger (a page at a time): chain,
 * Merkle tree, stored and given checkpoints, the prune anchor and the head's
 * hash and frontier. Needs only public keys, so it can run in a worker;
 * the head's MAC is left to the caller. Starts after the verified mark unless
 * `full`.
 *
 * @example
 * const r = await scanLedger(db, { signers, anchor: await latestAnchor(state) });
 */
export async function scanLedger(db: Kysely<StateDatabase>, o: ScanOptions): Promise<ScanResult> {
  const { anchor, external } = o;
  const signers = new SigningKeySet(o.signers);
  const cpProblem = (c: Checkpoint) => signers.problem(c.keyId, c.size, checkpointMessage(c), c.signature);
  // Other instances may append while this runs: the head read first bounds what is verified, so a
  // live ledger is checked as of one consistent moment (the head commits with its rows).
  const head = await readHead(db);
  const base = anchor?.size ?? 0;
  // The mark is a shortcut only where it lies past the anchor and below any given checkpoint.
  const useMark =
    !o.full && o.mark !== undefined && o.mark.seq >= base && (external === undefined || external.size >= o.mark.seq);
  const start = useMark && o.mark ? o.mark.seq : base;
  let read = 0;
  // Checkpoints at or before the start were checked when the entries before it were; not counted again.
  const stored = (await db.selectFrom("checkpoints").selectAll().where("size", ">=", start).execute()).map(
    checkpointFromRow,
  );
  const wanted = new Map<number, Checkpoint[]>();
  for (const c of external ? [...stored, external] : stored) wanted.set(c.size, [...(wanted.get(c.size) ?? []), c]);
  const fail = (entries: number, firstBad: number | undefined, reason: string): ScanResult => ({
    ok: false,
    entries,
    ...(firstBad !== undefined ? { firstBad } : {}),
    reason,
    checkpoints: stored.length,
    from: start,
    read,
  });
  const checkAt = (size: number, frontier: FrontierBuilder): string | undefined => {
    for (const c of wanted.get(size) ?? []) {
      const label = c === external ? "the given checkpoint" : `checkpoint at size ${size}`;
      const bad = cpProblem(c);
      if (bad) return `${label} ${bad}`;
      if (frontier.root() !== c.root) return `${label} does not match the ledger: history was rewritten`;
    }
    return undefined;
  };

  if (anchor) {
    const anchorBad = signers.problem(anchor.keyId, anchor.size, anchorMessage(anchor), anchor.signature);
    if (anchorBad) return fail(0, base, `the prune anchor ${anchorBad}`);
    if (rootOf(anchor.frontier) !== anchor.root)
      return fail(0, base, "the prune anchor's Merkle frontier does not match its signed root");
    if (external && external.size < base)
      return {
        ...fail(
          0,
          undefined,
          `the given checkpoint (size ${external.size}) predates the prune anchor (size ${base}, entries before ${anchor.before}): the entries it covers were pruned, so it can no longer be checked`,
        ),
        aboutGivenCheckpoint: true,
      };
    const below = await db
      .selectFrom("ledger")
      .select("seq")
      .where("seq", "<=", base)
      .orderBy("seq")
      .limit(1)
      .executeTakeFirst();
    if (below)
      return fail(
        0,
        Number(below.seq),
        `entry ${below.seq} lies in the pruned range (the anchor covers entries up to ${base}): it was inserted afterwards`,
      );
  }
  if (o.mark) {
    const bad = await markedCheckpointsProblem(db, o.mark, cpProblem);
    if (bad) return fail(0, undefined, bad);
  }
  let prev = anchor?.hash ?? GENESIS;
  let frontier = anchor ? new FrontierBuilder(anchor.frontier, base) : new FrontierBuilder();
  if (useMark && o.mark && start > base) {
    // Cheap checks on the part not read again: it still begins where the anchor (or the genesis) says.
    const first = await db
      .selectFrom("ledger")
      .select((eb) => eb.fn.min("seq").as("s"))
      .executeTakeFirst();
    if (Number(first?.s ?? 0) !== base + 1) return fail(base, base + 1, `entry ${base + 1} is missing (sequence gap)`);
    // The mark's entry must still be the one that verified: a cheap check that the boundary was not rewritten.
    const at = await db.selectFrom("ledger").select("hash").where("seq", "=", start).executeTakeFirst();
    if (at?.hash !== o.mark.hash)
      return fail(
        start - 1,
        start,
        `entry ${start} was ${at ? "altered" : "removed"} after it was verified (run audit verify --full)`,
      );
    prev = o.mark.hash;
    frontier = new FrontierBuilder(o.mark.frontier, start);
  }
  const coverage =
    o.checkpointEveryMs !== undefined
      ? await CoverageTracker.start(db, o.checkpointEveryMs, start, base, o.nowMs ?? Date.now())
      : undefined;
  let expected = start + 1;
  let pastHead: number | undefined;
  let captured: ScanResult["captured"];
  const bad = checkAt(start, frontier);
  if (bad) return fail(start, undefined, bad);
  const items = new ItemsChecker(db, Buffer.from(o.saltKey));
  // Since v2 (migration 0011) deletions are only ever written as batches: a per-item entry after a batch is forged.
  let firstBatch = start > 0 ? await firstBatchUpTo(db, start) : undefined;
  for await (const row of ledgerRows({ db }, o.page ?? 5000, start)) {
    read += 1;
    const seq = Number(row.seq);
    if (head && seq > head.seq) {
      pastHead = seq;
      break;
    }
    if (seq !== expected) return fail(expected - 1, expected, `entry ${expected} is missing (sequence gap)`);
    if (row.prev_hash !== prev)
      return fail(expected - 1, seq, `entry ${seq} does not link to entry ${seq - 1} (prevHash)`);
    if (entryHash(prev, row) !== row.hash) return fail(expected - 1, seq, `entry ${seq} was altered (hash mismatch)`);
    if (isBatchRow(row)) firstBatch ??= seq;
    else if (firstBatch !== undefined && isV1ItemRow(row))
      return fail(
        expected - 1,
        seq,
        `entry ${seq} records one deleted item the way ledgers did before v2, after batch entry ${firstBatch}: lethe no longer writes such entries (forged)`,
      );
    if (isBatchRow(row) && items.add(seq, JSON.parse(row.data as string) as { items: number; root: string })) {
      const itemBad = await items.flush();
      if (itemBad) return fail(itemBad[0] - 1, itemBad[0], itemBad[1]);
    }
    frontier.add(row.hash);
    prev = row.hash;
    coverage?.entry(seq, row.at);
    if (seq === o.captureAt) captured = { hash: prev, frontier: frontier.toHex() };
    const cps = wanted.get(seq);
    if (cps) {
      const cpBad = checkAt(seq, frontier);
      if (cpBad) return fail(seq, seq, cpBad);
      for (const c of cps) if (c !== external) coverage?.checkpoint(seq, c.at);
    }
    expected += 1;
  }
  const size = expected - 1;
  const itemBad = (await items.flush()) ?? (await strayItems(db, start, size, items.checked));
  if (itemBad) return fail(itemBad[0] - 1, itemBad[0], itemBad[1]);
  if (!head) return fail(size, size + 1, headRowProblem(undefined, size) as string);
  if (head.seq !== size)
    return fail(size, size + 1, `the ledger head says ${head.seq} entries but ${size} verify: entries were removed`);
  if (head.hash !== prev)
    return fail(size, size, `the ledger head's hash is not entry ${size}'s: the head was altered`);
  // A stored checkpoint past the verified head is fine if the ledger has grown to it since; one past
  // the current head means entries it signed are gone. The given checkpoint predates this run.
  const now = (await readHead(db))?.seq ?? 0;
  // Without one snapshot (PostgreSQL reads each statement at its own moment), an append that commits after `now`
  // was read shows its item rows here. An append commits its items with its head, so a row this query sees is
  // planted only if it still lies beyond the head read after it.
  const newest = await db
    .selectFrom("ledger_items")
    .select("seq")
    .where("seq", ">", now)
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  const planted = newest && Number(newest.seq) > ((await readHead(db))?.seq ?? 0) ? newest : undefined;
  if (planted)
    return fail(
      size,
      Number(planted.seq),
      `item rows at entry ${planted.seq} lie beyond the ledger head: they belong to no entry`,
    );
  if (pastHead !== undefined && pastHead > now)
    return fail(size, pastHead, `entry ${pastHead} lies beyond the ledger head: the head was rolled back`);
  const beyond = [...wanted.entries()]
    .filter(([s, cps]) => s > size && (s > now || (external !== undefined && cps.includes(external))))
    .map(([s]) => s);
  // Only a checkpoint that verifies says entries were signed: a planted one (bad signature, unknown key) is
  // tampering with the checkpoints, not evidence that the ledger lost entries.
  for (const s of beyond)
    for (const c of wanted.get(s) ?? []) {
      const bad = cpProblem(c);
      if (bad) return fail(size, size + 1, `checkpoint at size ${s} (beyond the ledger's ${size} entries) ${bad}`);
    }
  if (beyond.length > 0)
    return fail(
      size,
      size + 1,
      `a signed checkpoint covers ${Math.max(...beyond)} entries but the ledger has ${size}: it was truncated`,
    );
  // The head's frontier is what the next append and checkpoint build on: it must be the recomputed one.
  const frontierHex = frontier.toHex();
  if (head.frontier !== JSON.stringify(frontierHex))
    return fail(size, size, "the ledger head's Merkle frontier does not match the entries: the head was altered");
  coverage?.finish(size);
  return {
    ok: true,
    entries: size,
    checkpoints: stored.filter((c) => c.size <= size).length,
    ...(anchor ? { anchor: { size: anchor.size, before: anchor.before } } : {}),
    ...(captured ? { captured } : {}),
    from: start,
    read,
    head,
    frontier: frontierHex,
    checkpointsUpTo: await checkpointTally(db, size),
    ...(coverage ? { uncovered: coverage.stretches } : {}),
    ...(coverage?.more ? { uncoveredMore: coverage.more } : {}),
  };
}

/** A prune that commits mid-verification moves the start; the check is then run again from the new anchor. */
const ATTEMPTS = 3;

/**
 * {@link scanLedger} from the newest prune anchor, started again (at most
 * three times) when a prune moved the anchor during the pass.
 *
 * @example
 * const r = await scanLatest(db, { signers, mark, full: false });
 */
export async function scanLatest(db: Kysely<StateDatabase>, o: Omit<ScanOptions, "anchor">): Promise<ScanResult> {
  let r: ScanResult = { ok: false, entries: 0, checkpoints: 0, from: 0, read: 0 };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const anchor = await latestAnchor({ db });
    r = await scanLedger(db, { ...o, anchor });
    if (r.ok || (await latestAnchor({ db }))?.size === anchor?.size) return r;
  }
  return r;
}

/** Item rows in (start, size] beyond those of the batches checked: rows added where no batch entry is. */
async function strayItems(
  db: Kysely<StateDatabase>,
  start: number,
  size: number,
  checked: number,
): Promise<[number, string] | undefined> {
  const r = await db
    .selectFrom("ledger_items")
    .select((eb) => [eb.fn.countAll<number | string>().as("n"), eb.fn.min("seq").as("s")])
    .where("seq", ">", start)
    .where("seq", "<=", size)
    .executeTakeFirst();
  const n = Number(r?.n ?? 0);
  if (n === checked) return undefined;
  return [Number(r?.s ?? start + 1), `${n - checked} item row(s) belong to no batch entry: they were added afterwards`];
}

/**
 * Checkpoints are append-only and the mark recorded how many covered entries up to its seq, with a digest of
 * them: fewer now means one was deleted; another digest means one was replaced or altered, unless every one of
 * them still carries a valid signature and there are more (another instance signed one since).
 */
async function markedCheckpointsProblem(
  db: Kysely<StateDatabase>,
  mark: VerifiedMark,
  cpProblem: (c: Checkpoint) => string | undefined,
): Promise<string | undefined> {
  const t = await checkpointTally(db, mark.seq);
  if (t.n < mark.checkpoints)
    return `${mark.checkpoints - t.n} signed checkpoint(s) covering entries up to ${mark.seq} were deleted (${mark.checkpoints} when the ledger was last verified, ${t.n} now)`;
  if (t.digest === mark.checkpointsDigest) return undefined;
  const rows = await db.selectFrom("checkpoints").selectAll().where("size", "<=", mark.seq).orderBy("size").execute();
  for (const c of rows.map(checkpointFromRow)) {
    const bad = cpProblem(c);
    if (bad) return `checkpoint at size ${c.size} ${bad} (it replaced or was added beside the verified ones)`;
  }
  if (t.n === mark.checkpoints)
    return `a signed checkpoint covering entries up to ${mark.seq} was replaced or altered after the ledger was last verified`;
  return undefined;
}

/** The first batch entry at or before `upTo`, found by its item rows (the primary key answers it). */
async function firstBatchUpTo(db: Kysely<StateDatabase>, upTo: number): Promise<number | undefined> {
  const r = await db
    .selectFrom("ledger_items")
    .select((eb) => eb.fn.min("seq").as("s"))
    .where("seq", "<=", upTo)
    .executeTakeFirst();
  return r?.s === null || r?.s === undefined ? undefined : Number(r.s);
}

export async function readHead(db: Kysely<StateDatabase>): Promise<StoredHead | undefined> {
  const h = await db
    .selectFrom("ledger_head")
    .select(["seq", "hash", "frontier", "mac", "keyed_from"])
    .where("id", "=", 1)
    .executeTakeFirst();
  // Garbage written into the head (a text seq, a frontier that is not JSON) is tampering, named as such.
  const bad = h && headRowProblem(h, 0);
  if (bad) throw new LetheError("AUDIT_FAILED", `lethe's state was damaged or tampered with: ${bad}`);
  return h && { seq: Number(h.seq), hash: h.hash, frontier: h.frontier, mac: h.mac, keyedFrom: Number(h.keyed_from) };
}

import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { type Anchor, anchorMessage, latestAnchor } from "./anchor.js";
import type { Ledger } from "./ledger.js";
import { rootOf } from "./merkle.js";
import { verifyLedger } from "./verify.js";

export interface PruneOptions {
  /** Entries recorded before this instant go. */
  before: Date;
  /** Without it, a dry run: what would go, nothing touched. */
  yes?: boolean;
}

export interface PruneResult {
  dryRun: boolean;
  before: string;
  /** Entries removed (or, in a dry run, that would be). */
  pruned: number;
  /** Entries kept after the prune point. */
  remaining: number;
  anchor?: { size: number; root: string; before: string };
}

/**
 * Ledger pruning (DESIGN.md: "keeps a signed anchor so the remainder still
 * verifies"). The whole ledger is verified first: a ledger that does not
 * verify is never pruned, since that would destroy the evidence. Then the
 * chain hash and Merkle frontier of the prefix that goes are signed into an
 * anchor, and in one transaction the `ledger_pruned` entry is appended, the
 * anchor stored and the entries removed.
 *
 * @example
 * await pruneLedger(state, ledger, { before: new Date("2019-01-01"), yes: true });
 */
export async function pruneLedger(state: StateHandle, ledger: Ledger, opts: PruneOptions): Promise<PruneResult> {
  const t = opts.before.getTime();
  if (!Number.isFinite(t)) throw new LetheError("USAGE", "--before: expected a date (e.g. 2019-01-01)");
  if (t > Date.now()) throw new LetheError("USAGE", "--before: the date is in the future");
  const before = opts.before.toISOString();
  const previous = await latestAnchor(state);
  const start = previous?.size ?? 0;
  const last = await state.db
    .selectFrom("ledger")
    .select((eb) => eb.fn.max("seq").as("s"))
    .where("seq", ">", start)
    .where("at", "<", before)
    .executeTakeFirst();
  const size = Number(last?.s ?? 0);
  const head = await ledger.size();
  if (size <= start) return { dryRun: !opts.yes, before, pruned: 0, remaining: head - start };
  if (!opts.yes) return { dryRun: true, before, pruned: size - start, remaining: head - size };

  // The verification that must pass first also yields what the anchor signs: one pass over the ledger.
  const check = await verifyLedger(state, ledger, { full: true, captureAt: size });
  if (!check.ok)
    throw new LetheError(
      "AUDIT_FAILED",
      `the ledger does not verify (entry ${check.firstBad}: ${check.reason}); pruning it would destroy the evidence`,
    );
  // Absent when another prune moved the start past `size` meanwhile.
  if (!check.captured)
    throw new LetheError("CONFLICT", "another prune committed meanwhile; nothing was pruned, run it again");
  const body: Omit<Anchor, "signature"> = {
    size,
    hash: check.captured.hash,
    frontier: check.captured.frontier,
    root: rootOf(check.captured.frontier),
    before,
    at: new Date().toISOString(),
  };
  await ledger.refuseIfRetired();
  const anchor: Anchor = { ...body, signature: ledger.sign(anchorMessage(body)), keyId: ledger.signingKeyId };
  let removed = 0;
  await state.db.transaction().execute(async (trx) => {
    // First statement: takes the ledger head, so no append or other prune interleaves with this one.
    await ledger.appendInTx(trx, [
      {
        action: "ledger_pruned",
        reason: `entries ${start + 1}–${size} (recorded before ${before}) pruned; a signed anchor keeps their chain hash and Merkle root`,
        data: { size, root: anchor.root, before, removed: size - start },
      },
    ]);
    // Another prune may have committed while this one read the prefix: its rows are then gone, and the
    // anchor computed here would be wrong. Under the head lock, check nothing moved.
    const now = await trx
      .selectFrom("ledger_anchors")
      .select((eb) => eb.fn.max("size").as("s"))
      .executeTakeFirst();
    if (Number(now?.s ?? 0) !== start)
      throw new LetheError("CONFLICT", "another prune committed meanwhile; nothing was pruned, run it again");
    await trx
      .insertInto("ledger_anchors")
      .values({
        ...body,
        signature: anchor.signature,
        frontier: JSON.stringify(anchor.frontier),
        key_id: ledger.signingKeyId,
      })
      .execute();
    removed = await state.dialect.pruneLedger(trx, size);
    // Older checkpoints stay (append-only); verification starts at the anchor and passes them by.
  });
  await ledger.checkpoint();
  await state.dialect.scrub(state.db);
  return {
    dryRun: false,
    before,
    pruned: removed,
    // Counted as the dry run counts: the entries kept, not the new ledger_pruned entry.
    remaining: head - size,
    anchor: { size, root: anchor.root, before },
  };
}

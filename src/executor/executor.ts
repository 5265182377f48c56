import type { DataMap } from "../core/data-map.js";
import type { DatasetDriver, Item } from "../core/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Checkpoint } from "../ledger/signing.js";
import type { EntryInput, LedgerAction } from "../ledger/types.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { closeRun, finishRunRecorded, type RunClose } from "./close-run.js";
import {
  type BatchContext,
  type BatchCounts,
  deleteBatch,
  type ExecutorDeps,
  recordScanProblems,
} from "./delete-batch.js";
import { expireBatch } from "./expire-batch.js";
import { dropExpiredPartitions, type PartitionDrops } from "./partition-retention.js";
import { reconcile } from "./reconcile.js";
import { deadRuns } from "./runs.js";
import { type ShreddedFile, shredPaths } from "./shred-paths.js";
import { openRun, type RunEnd, type RunStart, withRun } from "./with-run.js";

/**
 * Actions only the executor itself writes: what was deleted or kept, and
 * when a run began and ended. `record` refuses them, so nothing outside
 * src/executor can put a deletion on the ledger that did not go through it.
 */
export const EXECUTOR_ACTIONS: ReadonlySet<LedgerAction> = new Set<LedgerAction>([
  "deleted",
  "shredded",
  "held",
  "run_started",
  "run_finished",
  "ttl_set",
]);

/**
 * The deletion executor: the one owner of runs, the hold rule, intents and
 * reconciliation, row-linked files, and the only handle that appends to the
 * ledger. Retention, erasure, events, the janitor and workspaces hand it
 * batches; lifecycle modules (holds, requests, leases, key ring, scheduler)
 * record their own entries through `record`/`recordInTx`, which refuse the
 * deletion and run actions.
 *
 * @example
 * const executor = new Executor(state, ledger, map);
 * await executor.withRun({ kind: "retention", reason: "retention" }, async (runId) => {
 *   await executor.deleteBatch({ runId, holds, reason: "retention" }, ds, batch, counts);
 *   return { result: undefined, end: { status: "ok", reason: "ok" } };
 * });
 */
export class Executor {
  constructor(
    readonly state: StateHandle,
    private readonly ledger: Ledger,
    readonly map: DataMap,
  ) {}

  /** HMAC-SHA256 of a subject id, as the ledger and holds store it. */
  /** Free text (reasons, notes) as the ledger and lethe's state may keep it: personal data masked. */
  scrubText(text: string, subjects: (string | null | undefined)[] = [], keys: (string | number)[] = []): string {
    return this.ledger.scrubText(text, { subjects, keys });
  }

  subjectHash(subject: string): string {
    return this.ledger.subjectHash(subject);
  }

  keyHash(dataset: string, key: string | number): string {
    return this.ledger.keyHash(dataset, key);
  }

  /** Runs `body` as one run: `run_started` first, `run_finished` always, also when `body` throws. */
  withRun<T>(start: RunStart, body: (runId: string) => Promise<{ result: T; end: RunEnd }>): Promise<T> {
    return withRun(this.state, this.ledger, start, body);
  }

  /**
   * Opens a run (its row and `run_started`) in one transaction with what `inTx` records; the caller then hands it
   * to {@link withRun} with `opened: true`, or closes it with {@link finishRun}. Erasure requests only.
   */
  openRun(
    start: Omit<RunStart, "opened" | "onRunStarted">,
    inTx?: (trx: StateTx, runId: string) => Promise<void>,
  ): Promise<string> {
    return openRun(this.state, this.ledger, start, inTx);
  }

  /** Closes an open run (`run_finished` and the row's status together); false if it was already closed. */
  finishRun(runId: string, end: RunClose): Promise<boolean> {
    return finishRunRecorded(this.state, this.ledger, runId, end);
  }

  /**
   * The one deletion path: holds, intent, driver delete, linked files, outcomes (see delete-batch.ts).
   * A retention-style batch (`expiredAt` set: retention, the janitor) of an `action: expire` dataset
   * shortens lifetimes instead (see expire-batch.ts); erasure and events always delete.
   */
  deleteBatch(ctx: BatchContext, ds: DatasetDriver, batch: Item[], counts: BatchCounts): Promise<void> {
    if (ctx.expiredAt && ds.config.action === "expire") return expireBatch(this.deps(), ctx, ds, batch, counts);
    return deleteBatch(this.deps(), ctx, ds, batch, counts);
  }

  /** Retention by whole partitions: drops wholly expired ones no hold reaches (see partition-retention.ts). */
  dropExpiredPartitions(
    ctx: BatchContext,
    ds: DatasetDriver,
    now: Date,
    counts: BatchCounts,
    shouldStop?: () => boolean,
  ): Promise<PartitionDrops> {
    return dropExpiredPartitions(this.deps(), ctx, ds, now, counts, shouldStop);
  }

  /** What a dataset's scan could not look at (an unreadable directory), as failures of the run. */
  recordScanProblems(ctx: BatchContext, ds: DatasetDriver, counts: BatchCounts, subjectHash?: string): Promise<void> {
    return recordScanProblems(this.ledger, ctx, ds, counts, subjectHash);
  }

  /** `lethe shred PATH…`: each file overwritten, synced, unlinked, each outcome on the ledger. */
  shredPaths(paths: string[]): Promise<ShreddedFile[]> {
    return shredPaths(paths, this.ledger);
  }

  private deps(): ExecutorDeps {
    return { state: this.state, ledger: this.ledger, map: this.map };
  }

  /**
   * Settles what dead processes left: batches between intent and outcome
   * (returns how many), and runs still marked running whose owner is gone,
   * closed as `crashed` (`run_finished`, `data.status: "crashed"`).
   */
  async reconcile(): Promise<number> {
    // Batches first: their entries belong to the run, which is then closed after them.
    const settled = await reconcile(this.state, this.ledger, this.map);
    for (const id of await deadRuns(this.state))
      await this.closeRun(id, "crashed", "its process is gone (killed, or the machine restarted)");
    return settled;
  }

  /** Closes a run whose owner died or lost its lease; false if it was already closed. */
  closeRun(runId: string, status: "interrupted" | "crashed", why: string): Promise<boolean> {
    return closeRun(this.state, this.ledger, runId, status, why);
  }

  /** Appends lifecycle entries in a transaction of their own (never deletions or run boundaries). */
  async record(entries: EntryInput[]): Promise<{ first: number; last: number }> {
    guard(entries);
    return this.ledger.append(entries);
  }

  /** Appends lifecycle entries inside the caller's transaction, as its first statement. */
  async recordInTx(trx: StateTx, entries: EntryInput[]): Promise<{ first: number; last: number }> {
    guard(entries);
    return this.ledger.appendInTx(trx, entries);
  }

  /**
   * A hold change: its ledger entry, the row change and the new holds seal, in one state transaction, so the
   * seal always names the entry of the last change (src/ledger/holds-seal.ts).
   *
   * @example
   * await executor.changeHolds({ action: "hold_released", data: { holdId } }, (trx) => markReleased(trx, holdId));
   */
  async changeHolds(entry: EntryInput, change: (trx: StateTx) => Promise<void>): Promise<void> {
    if (entry.action !== "hold_added" && entry.action !== "hold_released")
      throw new Error(`changeHolds records hold entries only, not ${entry.action}`);
    await this.state.db.transaction().execute(async (trx) => {
      // Checked under the head lock the entry takes: a change must not seal over rows edited outside lethe.
      const { last } = await this.ledger.appendInTx(trx, [entry]);
      await this.ledger.checkHolds(trx, last);
      await change(trx);
      await this.ledger.sealHolds(trx, last);
    });
  }

  /** The unreleased holds, refused (AUDIT_FAILED) unless they match their seal: what every deletion reads. */
  verifiedHolds(): ReturnType<Ledger["verifiedHolds"]> {
    return this.ledger.verifiedHolds();
  }

  checkpoint(): Promise<Checkpoint> {
    return this.ledger.checkpoint();
  }

  /** Ed25519 signature with the ledger key (erasure receipts). */
  sign(message: Buffer): string {
    return this.ledger.sign(message);
  }

  publicKeyPem(): string {
    return this.ledger.publicKeyPem();
  }
}

function guard(entries: EntryInput[]): void {
  for (const e of entries)
    if (EXECUTOR_ACTIONS.has(e.action))
      throw new Error(`${e.action} entries are written by the executor only (withRun, deleteBatch, reconcile)`);
    else if (e.action === "hold_added" || e.action === "hold_released")
      throw new Error(`${e.action} entries are written with their holds seal only (changeHolds)`);
}

import { posix, relative, resolve, sep } from "node:path";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import type { ActiveHolds } from "./holds.js";
import { closeIntent, openIntent } from "./intents.js";
import type { DatasetDriver, Item, LinkedFiles } from "./types.js";

export interface BatchCounts {
  found: number;
  deleted: number;
  held: number;
  failed: number;
  filesRemoved: number;
  /** Hold ids that kept something back, with their reasons. */
  holdsHit: Map<string, string>;
  failures: { key: string | number; reason: string }[];
}

export function emptyCounts(): BatchCounts {
  return { found: 0, deleted: 0, held: 0, failed: 0, filesRemoved: 0, holdsHit: new Map(), failures: [] };
}

export interface BatchContext {
  state: StateHandle;
  ledger: Ledger;
  holds: ActiveHolds;
  runId: string;
  /** `retention`, `erasure`, `event`… recorded on every entry. */
  reason: string;
  /** Retention re-checks expiry inside the delete; erasure does not. */
  expiredAt?: Date;
  /** The dataset's row-linked files (`DataMap.linkedFiles`). */
  files?: LinkedFiles | undefined;
}

/**
 * The one deletion path every feature uses: split off held items (recorded
 * as `held`), write the intent, delete the batch, remove row-linked files,
 * then record every outcome and drop the intent in one state transaction.
 */
export async function deleteBatch(
  ctx: BatchContext,
  ds: DatasetDriver,
  batch: Item[],
  counts: BatchCounts,
): Promise<void> {
  // With SQLite state and targets every await resolves at once, so a long run would be one unbroken
  // microtask chain: yield once per batch so timers (lease heartbeats) and HTTP requests still run.
  await new Promise((resolve) => setImmediate(resolve));
  const name = ds.config.name;
  const action = ds.config.action;
  counts.found += batch.length;
  const datasetHold = ctx.holds.datasets.get(name);
  const held: EntryInput[] = [];
  const todo: Item[] = [];
  for (const item of batch) {
    const sh = item.subject ? ctx.ledger.subjectHash(item.subject) : undefined;
    const hold = datasetHold ?? (sh ? ctx.holds.subjects.get(sh) : undefined);
    if (hold) {
      counts.holdsHit.set(hold.id, hold.reason);
      held.push({
        action: "held",
        dataset: name,
        key: item.key,
        subjectHash: sh,
        reason: `hold ${hold.id}: ${hold.reason}`,
        runId: ctx.runId,
      });
    } else todo.push(item);
  }
  counts.held += held.length;
  if (held.length > 0) await ctx.ledger.append(held);
  if (todo.length === 0) return;

  const intentId = await openIntent(
    ctx.state,
    ctx.runId,
    name,
    ctx.reason,
    action,
    todo.map((i) => ({
      k: i.key,
      ...(i.file ? { f: i.file } : {}),
      ...(i.subject ? { s: ctx.ledger.subjectHash(i.subject) } : {}),
    })),
  );
  const result = await ds.deleteBatch(todo, { action, ...(ctx.expiredAt ? { expiredAt: ctx.expiredAt } : {}) });
  const rowAction = action === "shred" && !ds.capabilities.linkedFiles ? "shredded" : "deleted";
  const entries: EntryInput[] = [];
  const shared = ctx.files ? await filesStillLinked(ctx.files, result.deleted) : new Set<string>();
  for (const item of result.deleted) {
    entries.push({
      action: rowAction,
      dataset: name,
      key: item.key,
      subject: item.subject,
      reason: ctx.reason,
      runId: ctx.runId,
    });
    if (item.file && ctx.files?.store.removeFile && !shared.has(item.file)) {
      const r = await ctx.files.store.removeFile(item.file, action);
      if (r.ok && !r.missing) {
        counts.filesRemoved++;
        entries.push({
          action: r.shredded ? "shredded" : "deleted",
          dataset: name,
          key: item.key,
          subject: item.subject,
          reason: `${ctx.reason}: linked file`,
          runId: ctx.runId,
        });
      } else if (!r.ok) {
        counts.failed++;
        counts.failures.push({ key: item.key, reason: `linked file: ${r.reason}` });
        entries.push({
          action: "failed",
          dataset: name,
          key: item.key,
          subject: item.subject,
          reason: `linked file: ${r.reason}`,
          runId: ctx.runId,
        });
      }
    }
  }
  for (const f of result.failed) {
    counts.failures.push({ key: f.item.key, reason: f.reason });
    entries.push({
      action: "failed",
      dataset: name,
      key: f.item.key,
      subject: f.item.subject,
      reason: f.reason,
      runId: ctx.runId,
    });
  }
  counts.deleted += result.deleted.length;
  counts.failed += result.failed.length;
  await ctx.state.db.transaction().execute(async (trx) => {
    if (entries.length > 0) await ctx.ledger.appendInTx(trx, entries);
    await closeIntent(trx, intentId);
  });
}

/**
 * Linked files of deleted rows that rows of any dataset linking into the same
 * store still point at: those stay. A path is looked for in its usual
 * spellings (`x.bin`, `./x.bin`, `sub/../x.bin` normalised, and absolute
 * under the store root), so one file named two ways is still one file.
 */
export async function filesStillLinked(files: LinkedFiles, deleted: { file?: string | null }[]): Promise<Set<string>> {
  const paths = [...new Set(deleted.flatMap((i) => (i.file ? [i.file] : [])))];
  if (paths.length === 0) return new Set();
  const root = files.store.config.kind === "fs" ? resolve(files.store.config.root) : undefined;
  const byVariant = new Map<string, string>();
  for (const p of paths) for (const v of spellings(p, root)) byVariant.set(v, p);
  const inUse = new Set<string>();
  for (const ds of files.linkers) {
    if (!ds.filesInUse) continue;
    for (const v of await ds.filesInUse([...byVariant.keys()])) inUse.add(byVariant.get(v) ?? v);
  }
  return inUse;
}

function spellings(p: string, root: string | undefined): string[] {
  if (root === undefined) return [...new Set([p, posix.normalize(p)])];
  const abs = resolve(root, p);
  const rel = relative(root, abs).split(sep).join("/");
  return [...new Set([p, rel, `./${rel}`, abs])];
}

/**
 * What a dataset's scan could not look at (an unreadable directory may hide
 * items): each is a failure of the run, counted and on the ledger.
 */
export async function recordScanProblems(
  ctx: BatchContext,
  ds: DatasetDriver,
  counts: BatchCounts,
  subjectHash?: string,
): Promise<void> {
  const problems = ds.scanProblems?.() ?? [];
  if (problems.length === 0) return;
  counts.failed += problems.length;
  counts.failures.push(...problems);
  await ctx.ledger.append(
    problems.map((p) => ({
      action: "failed" as const,
      dataset: ds.config.name,
      key: p.key,
      subjectHash,
      reason: p.reason,
      runId: ctx.runId,
    })),
  );
}

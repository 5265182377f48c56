import { posix, relative, resolve, sep } from "node:path";
import type { LinkedFiles } from "../core/types.js";
import type { EntryInput } from "../ledger/types.js";

/**
 * Linked files of deleted rows that rows of any dataset linking into the same
 * store still point at: those stay. A path is looked for in its usual
 * spellings (`x.bin`, `./x.bin`, `sub/../x.bin` normalised, and absolute
 * under the store root), so one file named two ways is still one file.
 *
 * @example
 * const keep = await filesStillLinked(files, deletedItems);
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

/** What removing one row's linked file came to: its entry (if any) and whether it counts as removed or failed. */
export interface LinkedRemoval {
  entry?: EntryInput;
  removed: boolean;
  failure?: string;
}

/**
 * Removes the linked file of a deleted row (unless another row still links
 * it) and says what to record. `reconciling`: after a crash, a file already
 * gone was (almost certainly) the interrupted run's work, since a run unlinks
 * files before it records the batch, so it still gets its `deleted` entry.
 *
 * @example
 * const r = await removeLinkedFile(files, item.file, "delete", base, "retention", shared, false);
 */
export async function removeLinkedFile(
  files: LinkedFiles | undefined,
  file: string | null | undefined,
  action: "delete" | "shred",
  base: Omit<EntryInput, "action" | "reason">,
  reason: string,
  shared: Set<string>,
  reconciling: boolean,
): Promise<LinkedRemoval> {
  if (!file || !files?.store.removeFile || shared.has(file)) return { removed: false };
  const r = await files.store.removeFile(file, action);
  const tag = reconciling ? " (reconciled)" : "";
  if (r.ok && !r.missing)
    return {
      removed: true,
      entry: { ...base, action: r.shredded ? "shredded" : "deleted", reason: `${reason}: linked file${tag}` },
    };
  if (r.ok && reconciling)
    return {
      removed: false,
      entry: { ...base, action: "deleted", reason: `${reason}: linked file (reconciled: already gone)` },
    };
  if (!r.ok)
    return {
      removed: false,
      failure: `linked file: ${r.reason}`,
      entry: { ...base, action: "failed", reason: `linked file: ${r.reason}` },
    };
  return { removed: false };
}

import { basename, dirname, resolve } from "node:path";
import { safeReason } from "../core/safe-reason.js";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";
import { DirAnchor } from "../safe-fs/anchor.js";
import { removeAt } from "../safe-fs/remove.js";

export interface ShreddedFile {
  path: string;
  ok: boolean;
  bytes?: number;
  reason?: string;
}

/**
 * `lethe shred PATH…`: overwrite in place, sync, unlink, one file at a time.
 * With a ledger, each outcome is recorded (`shredded` or `failed`, the path
 * stored only as its HMAC, reason `shred`), so manual shredding is on the
 * record like every other deletion.
 *
 * @example
 * const files = await shredPaths(["/data/old.pt"], ledger); // lethe.shred() → Executor.shredPaths
 */
export async function shredPaths(paths: string[], ledger?: Ledger): Promise<ShreddedFile[]> {
  const files: ShreddedFile[] = [];
  const entries: EntryInput[] = [];
  for (const path of paths) {
    const abs = resolve(path);
    // The directory the user named is opened once; the file is then reached through it without following a
    // link, and only the inode that was checked is overwritten (src/safe-fs).
    const r = shredOne(abs);
    if (r.ok) {
      files.push({ path, ok: true, bytes: r.bytes });
      entries.push({ action: "shredded", key: abs, reason: "shred", data: { bytes: r.bytes } });
    } else {
      files.push({ path, ok: false, reason: r.reason });
      entries.push({ action: "failed", key: abs, reason: `shred: ${r.code}` });
    }
    // Record as we go: a crash mid-list must not lose the records of files already gone.
    if (ledger && entries.length >= 100) await ledger.append(entries.splice(0));
  }
  if (ledger && entries.length > 0) await ledger.append(entries);
  return files;
}

function shredOne(abs: string): { ok: true; bytes: number } | { ok: false; code: string; reason: string } {
  let anchor: DirAnchor;
  try {
    anchor = new DirAnchor(dirname(abs));
    anchor.dir([]);
  } catch (err) {
    return { ok: false, code: "IO_ERROR", reason: safeReason(err) };
  }
  try {
    const r = removeAt(anchor, basename(abs), "shred");
    if (!r.ok) return { ok: false, code: r.code, reason: r.reason };
    if ("missing" in r) return { ok: false, code: "ENOENT", reason: "ENOENT: no such file" };
    return { ok: true, bytes: "bytes" in r ? r.bytes : 0 };
  } finally {
    anchor.close();
  }
}

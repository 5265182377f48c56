import { resolve } from "node:path";
import { safeReason } from "../core/safe-reason.js";
import { shredFile } from "../crypto/shred.js";
import type { Ledger } from "../ledger/ledger.js";
import type { EntryInput } from "../ledger/types.js";

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
    try {
      const { bytes } = shredFile(abs);
      files.push({ path, ok: true, bytes });
      entries.push({ action: "shredded", key: abs, reason: "shred", data: { bytes } });
    } catch (err) {
      const reason = safeReason(err);
      files.push({ path, ok: false, reason });
      entries.push({
        action: "failed",
        key: abs,
        reason: `shred: ${(err as NodeJS.ErrnoException).code ?? "refused"}`,
      });
    }
    // Record as we go: a crash mid-list must not lose the records of files already gone.
    if (ledger && entries.length >= 100) await ledger.append(entries.splice(0));
  }
  if (ledger && entries.length > 0) await ledger.append(entries);
  return files;
}

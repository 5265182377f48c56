import { lstatSync, type Stats, unlinkSync } from "node:fs";
import { shredFile } from "../crypto/shred.js";
import { at, type DirAnchor, isName, PathChangedError } from "./anchor.js";

/** What removing one file did. Reasons carry a code and never a path or a key. */
export type Removal =
  | { ok: true; shredded: boolean; bytes: number }
  | { ok: true; missing: true }
  /** `accept` said no (e.g. the file was modified since it expired): left alone, not a failure. */
  | { ok: true; skipped: true }
  | { ok: false; code: "PATH_CHANGED" | "NOT_A_FILE" | "REFUSED" | "IO_ERROR"; reason: string };

export interface RemoveChecks {
  /** The dev/ino the caller checked: anything else under that name is not removed. */
  expected?: { dev: number; ino: number };
  /** Decides on the file as found through the anchor (e.g. is it still expired?). */
  accept?: (st: Stats) => boolean;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Removes (or shreds) the regular file `rel` below an anchored root: every directory is reached through a
 * descriptor opened without following links, the name is removed relative to its parent's descriptor, and
 * the checks run on the file as found through the anchor, and the overwrite touches only that inode. A link, a directory, a swapped parent
 * or a different file under the name is reported as a failure, never followed.
 *
 * @example
 * const r = removeAt(anchor, "users/alice/scan.bin", "shred", { accept: (st) => st.mtimeMs < cutoff });
 */
export function removeAt(
  anchor: DirAnchor,
  rel: string,
  action: "delete" | "shred",
  checks: RemoveChecks = {},
): Removal {
  const { expected, accept } = checks;
  const parts = rel.split("/");
  const name = parts.pop() as string;
  if (!isName(name)) return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: not a file name" };
  let path: string;
  try {
    path = at(anchor.dir(parts), name);
  } catch (err) {
    if (err instanceof PathChangedError) return { ok: false, code: "PATH_CHANGED", reason: err.message };
    if (errno(err) === "ENOENT") return { ok: true, missing: true };
    return { ok: false, code: "IO_ERROR", reason: `IO_ERROR: ${errno(err) ?? "unknown"}` };
  }
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { ok: true, missing: true };
  if (st.isSymbolicLink())
    return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: a symbolic link; not followed, left alone" };
  if (!st.isFile()) return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: not a regular file; left alone" };
  if (expected && (st.dev !== expected.dev || st.ino !== expected.ino)) return changed();
  if (accept && !accept(st)) return { ok: true, skipped: true };
  try {
    if (action === "delete") {
      unlinkSync(path);
      return { ok: true, shredded: false, bytes: st.size };
    }
    const { bytes } = shredFile(path, { expect: { dev: st.dev, ino: st.ino } });
    return { ok: true, shredded: true, bytes };
  } catch (err) {
    if (errno(err) === "ENOENT") return { ok: true, missing: true };
    if (err instanceof PathChangedError) return changed();
    const code = (err as { code?: string }).code;
    if (code === "VALIDATION") return { ok: false, code: "REFUSED", reason: (err as Error).message };
    return { ok: false, code: "IO_ERROR", reason: `IO_ERROR: ${errno(err) ?? "unknown"}` };
  }
}

function changed(): Removal {
  return { ok: false, code: "PATH_CHANGED", reason: new PathChangedError("the file").message };
}

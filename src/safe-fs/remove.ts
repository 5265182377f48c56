import { lstatSync, type Stats, unlinkSync } from "node:fs";
import { type ShredOptions, shredFile, shredFileAsync } from "../crypto/shred.js";
import { at, type DirAnchor, isName, PathChangedError } from "./anchor.js";
import { type Identity, identityOf, sameInode } from "./identity.js";

/** What removing one file did. Reasons carry a code and never a path or a key. */
export type Removal =
  | { ok: true; shredded: boolean; bytes: number }
  | { ok: true; missing: true }
  /** `accept` said no (e.g. the file was modified since it expired): left alone, not a failure. */
  | { ok: true; skipped: true }
  | { ok: false; code: "PATH_CHANGED" | "NOT_A_FILE" | "REFUSED" | "IO_ERROR"; reason: string };

export interface RemoveChecks {
  /** The dev/ino the caller checked: anything else under that name is not removed. */
  expected?: Identity;
  /** Decides on the file as found through the anchor (e.g. is it still expired?). */
  accept?: (st: Stats) => boolean;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * True for the refusals of what is under the name (a link, a directory, a link or swap on the path): lethe
 * refuses them by design, so trying the same item again cannot delete it (an event does not retry them).
 *
 * @example
 * if (!r.ok && isPermanentRefusal(r.code)) failed.push({ item, reason: r.reason, permanent: true });
 */
export function isPermanentRefusal(code: Exclude<Removal, { ok: true }>["code"]): boolean {
  return code === "NOT_A_FILE" || code === "PATH_CHANGED";
}

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
  const parts = rel.split("/");
  const name = parts.pop() as string;
  if (!isName(name)) return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: not a file name" };
  let dir: number;
  try {
    dir = anchor.dir(parts);
  } catch (err) {
    if (errno(err) === "ENOENT") return { ok: true, missing: true };
    return failure(err);
  }
  return removeIn(dir, name, action, checks);
}

/**
 * {@link removeAt} for a name inside a directory the caller already holds open (and checked).
 *
 * @example
 * const r = removeIn(wsFd, "e-3f…", "shred");
 */
export function removeIn(dir: number, name: string, action: "delete" | "shred", checks: RemoveChecks = {}): Removal {
  const found = find(dir, name, checks);
  if (!("path" in found)) return found;
  const { path, st } = found;
  try {
    if (action === "delete") {
      unlinkSync(path);
      return { ok: true, shredded: false, bytes: st.size };
    }
    const { bytes } = shredFile(path, { expect: identityOf(st) });
    return { ok: true, shredded: true, bytes };
  } catch (err) {
    return failure(err);
  }
}

/**
 * {@link removeIn} with `shred`, overwriting off the event loop (a large file in a serving process).
 *
 * @example
 * const r = await shredIn(wsFd, "e-3f…", { fill: "zero" });
 */
export async function shredIn(
  dir: number,
  name: string,
  opts: RemoveChecks & Pick<ShredOptions, "fill"> = {},
): Promise<Removal> {
  const found = find(dir, name, opts);
  if (!("path" in found)) return found;
  try {
    const { bytes } = await shredFileAsync(found.path, { fill: opts.fill, expect: identityOf(found.st) });
    return { ok: true, shredded: true, bytes };
  } catch (err) {
    return failure(err);
  }
}

/** The regular file under `name` as found through `dir`, or why it is left alone. */
function find(dir: number, name: string, checks: RemoveChecks): { path: string; st: Stats } | Removal {
  if (!isName(name)) return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: not a file name" };
  const path = at(dir, name);
  let st: Stats | undefined;
  try {
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    return failure(err);
  }
  if (!st) return { ok: true, missing: true };
  if (st.isSymbolicLink())
    return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: a symbolic link; not followed, left alone" };
  if (!st.isFile()) return { ok: false, code: "NOT_A_FILE", reason: "NOT_A_FILE: not a regular file; left alone" };
  if (checks.expected && !sameInode(st, checks.expected)) return changed();
  if (checks.accept && !checks.accept(st)) return { ok: true, skipped: true };
  return { path, st };
}

function failure(err: unknown): Removal {
  if (errno(err) === "ENOENT") return { ok: true, missing: true };
  if (err instanceof PathChangedError) return { ok: false, code: "PATH_CHANGED", reason: err.message };
  const code = (err as { code?: string }).code;
  if (code === "VALIDATION") return { ok: false, code: "REFUSED", reason: (err as Error).message };
  return { ok: false, code: "IO_ERROR", reason: `IO_ERROR: ${errno(err) ?? "unknown"}` };
}

function changed(): Removal {
  return { ok: false, code: "PATH_CHANGED", reason: new PathChangedError("the file").message };
}

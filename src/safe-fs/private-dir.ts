import { closeSync, fchmodSync, fstatSync, mkdirSync, type Stats } from "node:fs";
import { at, openDirAt, PathChangedError } from "./anchor.js";

/**
 * Why a directory lethe keeps private is not fit to write into: a link or not a directory (planted in a shared
 * place like /dev/shm), or another user's. `undefined` when it is a directory of this user.
 *
 * @example
 * const why = privateDirProblem(await lstat(dir)); // "link" | "not-dir" | "owner" | undefined
 */
export function privateDirProblem(st: Stats): "link" | "not-dir" | "owner" | undefined {
  if (st.isSymbolicLink()) return "link";
  if (!st.isDirectory()) return "not-dir";
  const uid = process.getuid?.();
  return uid !== undefined && st.uid !== uid ? "owner" : undefined;
}

/** Group or other bits set: narrowed to 0700 (mkdir's mode is only ever narrowed by the umask, never widened). */
export const tooOpen = (st: Stats): boolean => (st.mode & 0o077) !== 0;

/**
 * Creates directory `name` (mode 0700) inside the directory open as `parent` if it is missing, and opens it
 * without following a link. Anything but a private directory of this user under the name is PATH_CHANGED:
 * nothing is written into it. Returns the open descriptor (the caller closes it).
 *
 * @example
 * const plain = ensurePrivateDirAt(wsFd, "plain", "the plain directory");
 */
export function ensurePrivateDirAt(parent: number, name: string, what?: string): number {
  try {
    mkdirSync(at(parent, name), { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const fd = openDirAt(parent, name, undefined, what);
  try {
    const st = fstatSync(fd);
    if (privateDirProblem(st) !== undefined) throw new PathChangedError(what);
    if (tooOpen(st)) fchmodSync(fd, 0o700);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync } from "node:fs";
import { type Identity, sameInode } from "./identity.js";

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** A configured root, which may itself be a link. */
const ROOT_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;

/**
 * Linux names every open descriptor under /proc/self/fd: a path through it is resolved by the kernel from the
 * directory the descriptor holds, whatever has been renamed or swapped since it was opened. Node has no
 * openat/unlinkat, so this is how lethe removes a name relative to a directory it already checked.
 */
export const FD_PATHS: boolean = process.platform === "linux" && existsSync("/proc/self/fd");

/** The path of `name` inside the directory open as `fd` (never a path the caller built from strings). */
export function at(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

/**
 * A directory below an anchor is not the plain directory lethe expects (a link, a non-directory, or another
 * directory swapped in), or a file was swapped while lethe removed it: never followed. `how` says which, so a
 * link that was there all along is not reported as a race (neither names a path).
 */
export class PathChangedError extends Error {
  readonly code = "PATH_CHANGED";
  constructor(what = "a directory on the path", how = "was replaced (by a link or another file or directory)") {
    super(`PATH_CHANGED: ${what} ${how}; not followed`);
  }
}

/** What is under `name` in the directory `fd` now, for a PATH_CHANGED message. */
function whatIsThere(fd: number, name: string): string {
  return lstatSync(at(fd, name), { throwIfNoEntry: false })?.isSymbolicLink()
    ? "is a symbolic link"
    : "is not a directory";
}

/** One path component: a name, never empty, `.`, `..` or containing a separator or NUL. */
export function isName(part: string): boolean {
  return part !== "" && part !== "." && part !== ".." && !part.includes("/") && !part.includes("\0");
}

/** One step of an anchored walk: the name to open and, when known, the directory it must still be. */
export interface Step {
  name: string;
  /** Any other directory under the name (one swapped in since it was checked) is PATH_CHANGED. */
  expect?: Identity;
  /** What the directory is, for the error (never a path: paths hold the app's names). */
  what?: string;
}

/**
 * Opens directory `name` inside the directory open as `fd`, refusing a name that is not one component, a link,
 * anything but a directory and (with `expect`) any directory but that one: each is PATH_CHANGED, never
 * followed. A missing name stays ENOENT.
 */
export function openDirAt(fd: number, name: string, expect?: Identity, what?: string): number {
  if (!isName(name)) throw new PathChangedError(what, "is not a plain name");
  let dir: number;
  try {
    dir = openSync(at(fd, name), DIR_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Linux answers ELOOP or (with O_DIRECTORY) ENOTDIR for a link: look at what is there to say which.
    if (code === "ELOOP" || code === "ENOTDIR") throw new PathChangedError(what, whatIsThere(fd, name));
    throw err;
  }
  if (expect && !sameInode(fstatSync(dir), expect)) {
    closeSync(dir);
    throw new PathChangedError(what);
  }
  return dir;
}

/**
 * The one anchored walk, from the directory open as `fd`: each step opened relative to the previous
 * descriptor with {@link openDirAt} (one plain name, no link followed, the expected directory if given).
 * Returns the last directory's descriptor. `keep(i, fd)` hands step i's descriptor to the caller (a cache),
 * which then closes it; every other descriptor the walk opened is closed as it moves on or fails, and the
 * start is closed too when `ownStart`.
 *
 * @example
 * const fd = walkFrom(rootFd, [{ name: "users" }, { name: "alice" }], false);
 * try { unlinkSync(at(fd, "scan.bin")); } finally { closeSync(fd); }
 */
export function walkFrom(
  fd: number,
  steps: readonly Step[],
  ownStart: boolean,
  keep?: (i: number, fd: number) => boolean,
): number {
  let cur = fd;
  let owned = ownStart;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as Step;
    let next: number;
    try {
      next = openDirAt(cur, step.name, step.expect, step.what);
    } catch (err) {
      if (owned) closeSync(cur);
      throw err;
    }
    if (owned) closeSync(cur);
    cur = next;
    owned = !keep?.(i, next);
  }
  return cur;
}

/**
 * The anchored walk from a path: opens `root` (following no link at its last component unless `followRoot`: a
 * configured root may be a link, a root in a shared place like /dev/shm may not), then walks the steps with
 * {@link walkFrom}. Returns the last directory's descriptor (the caller closes it); every intermediate one is
 * closed. A root that is a link, not a directory or gone is PATH_CHANGED.
 *
 * @example
 * const fd = openBelow("/dev/shm/lethe", [{ name: ns, expect: nsId }, { name: "ws_…", expect: wsId }]);
 * try { writeFileSync(at(fd, "e-…"), bytes); } finally { closeSync(fd); }
 */
export function openBelow(root: string, steps: Step[], opts: { followRoot?: boolean; rootWhat?: string } = {}): number {
  let fd: number;
  try {
    fd = openSync(root, opts.followRoot ? ROOT_FLAGS : DIR_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR" || code === "ENOENT") throw new PathChangedError(opts.rootWhat);
    throw err;
  }
  return walkFrom(fd, steps, true);
}

/**
 * Holds descriptors for a root and the directories below it, each opened one component at a time relative
 * to its parent by the one walk ({@link walkFrom}), so no symlink at any component below the root is ever
 * followed, and a directory swapped after it was opened does not move what the descriptor names. Descriptors
 * are cached by relative directory for one batch; `close()` releases them all.
 *
 * @example
 * const a = new DirAnchor("/data/models");
 * try { unlinkSync(at(a.dir(["users", "alice"]), "scan.bin")); } finally { a.close(); }
 */
export class DirAnchor {
  private readonly fds = new Map<string, number>();

  /** `root` is trusted configuration: it is opened as named (a configured root may itself be a link). */
  constructor(private readonly root: string) {}

  /**
   * The descriptor of the directory `parts` below the root: from the deepest one already open, the rest
   * walked (and cached) by {@link walkFrom}.
   *
   * @example
   * const fd = anchor.dir(["users", "alice"]); // owned by the anchor: closed by anchor.close()
   */
  dir(parts: string[]): number {
    // Checked before the cache: "" or "." must never alias a cached directory.
    if (!parts.every(isName)) throw new PathChangedError(undefined, "is not a plain name");
    const keys: string[] = [];
    for (const part of parts) keys.push(keys.length > 0 ? `${keys[keys.length - 1]}/${part}` : part);
    let depth = parts.length;
    while (depth > 0 && !this.fds.has(keys[depth - 1] as string)) depth--;
    let start = depth > 0 ? this.fds.get(keys[depth - 1] as string) : this.fds.get("");
    if (start === undefined) {
      start = openSync(this.root, ROOT_FLAGS);
      this.fds.set("", start);
    }
    const rest = parts.slice(depth).map((name) => ({ name }));
    return walkFrom(start, rest, false, (i, fd) => {
      this.fds.set(keys[depth + i] as string, fd);
      return true;
    });
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

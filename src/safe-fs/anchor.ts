import { closeSync, constants, existsSync, openSync } from "node:fs";

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

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

/** A directory below an anchor was replaced (a link or a non-directory under its name): never followed. */
export class PathChangedError extends Error {
  readonly code = "PATH_CHANGED";
  constructor(what = "a directory on the path") {
    super(`PATH_CHANGED: ${what} was replaced while lethe removed the item; not followed`);
  }
}

/** One path component: a name, never empty, `.`, `..` or containing a separator or NUL. */
export function isName(part: string): boolean {
  return part !== "" && part !== "." && part !== ".." && !part.includes("/") && !part.includes("\0");
}

/** Opens directory `name` inside the directory open as `fd`, refusing a link or anything but a directory. */
export function openDirAt(fd: number, name: string): number {
  try {
    return openSync(at(fd, name), DIR_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR") throw new PathChangedError();
    throw err;
  }
}

/**
 * Holds descriptors for a root and the directories below it, each opened one component at a time relative
 * to its parent with O_NOFOLLOW, so no symlink at any component below the root is ever followed, and a
 * directory swapped after it was opened does not move what the descriptor names. Descriptors are cached by
 * relative directory for one batch; `close()` releases them all.
 *
 * @example
 * const a = new DirAnchor("/data/models");
 * try { unlinkSync(at(a.dir(["users", "alice"]), "scan.bin")); } finally { a.close(); }
 */
export class DirAnchor {
  private readonly fds = new Map<string, number>();

  /** `root` is trusted configuration: it is opened as named (a configured root may itself be a link). */
  constructor(private readonly root: string) {}

  /** The descriptor of the directory `parts` below the root (opening the missing ones). */
  dir(parts: string[]): number {
    let key = "";
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openSync(this.root, constants.O_RDONLY | constants.O_DIRECTORY);
      this.fds.set(key, fd);
    }
    for (const part of parts) {
      if (!isName(part)) throw new PathChangedError();
      key = key ? `${key}/${part}` : part;
      let next = this.fds.get(key);
      if (next === undefined) {
        next = openDirAt(fd, part);
        this.fds.set(key, next);
      }
      fd = next;
    }
    return fd;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

import { closeSync, constants, fstatSync, mkdirSync, openSync } from "node:fs";
import { at, isName, openDirAt, PathChangedError } from "../safe-fs/anchor.js";

/** Which directory a name held when lethe made or opened it (a swap under the same name changes it). */
export interface DirIdentity {
  dev: number;
  ino: number;
}

/** One workspace, by the names that lead to it from the transient root (never one string path to follow). */
export interface WorkspaceRef {
  root: string;
  namespace: string;
  id: string;
  /** The namespace directory this service opened: any other directory (or link) under its name is refused. */
  nsIdentity?: DirIdentity;
  /** The workspace directory as created, when known (the janitor of another process does not know it). */
  wsIdentity?: DirIdentity;
}

const ROOT_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export const identityOf = (st: DirIdentity): DirIdentity => ({ dev: st.dev, ino: st.ino });
export const sameDir = (a: DirIdentity, b: DirIdentity): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * Opens the namespace directory from the root, one component at a time, following no link (not even the
 * root's own last component, which ensurePrivateDir already refuses as a link), and checks it is still the
 * directory `expect` names. A namespace renamed away and replaced (by a link or by another directory), or
 * gone, is PATH_CHANGED: nothing under it is touched.
 *
 * @example
 * const fd = openNamespace("/dev/shm/lethe", "3e0e4b729aa18704", svcNsIdentity);
 * try { mkdirSync(at(fd, "ws_…"), 0o700); } finally { closeSync(fd); }
 */
export function openNamespace(root: string, namespace: string, expect?: DirIdentity): number {
  if (!isName(namespace)) throw new PathChangedError("the workspace namespace");
  let rootFd: number;
  try {
    rootFd = openSync(root, ROOT_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR" || code === "ENOENT") throw new PathChangedError("the transient root");
    throw err;
  }
  try {
    let fd: number;
    try {
      fd = openDirAt(rootFd, namespace);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new PathChangedError("the workspace namespace");
      throw err instanceof PathChangedError ? new PathChangedError("the workspace namespace") : err;
    }
    if (expect && !sameDir(fstatSync(fd), expect)) {
      closeSync(fd);
      throw new PathChangedError("the workspace namespace");
    }
    return fd;
  } finally {
    closeSync(rootFd);
  }
}

/**
 * Creates the workspace directory (mode 0700) inside the namespace reached by {@link openNamespace} and returns
 * the identity it got, so cleanup can tell it from a directory swapped in under its name later.
 */
export function createWorkspaceDir(ref: Omit<WorkspaceRef, "wsIdentity">): DirIdentity {
  const ns = openNamespace(ref.root, ref.namespace, ref.nsIdentity);
  try {
    // The umask can only narrow 0700, never widen it.
    mkdirSync(at(ns, ref.id), { mode: 0o700 });
    const fd = openDirAt(ns, ref.id);
    try {
      return identityOf(fstatSync(fd));
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(ns);
  }
}

/**
 * Opens the workspace directory itself from the root (no link followed), refusing any directory but the one
 * `ref.wsIdentity` names: a name below it can then be reached with `at(fd, name)`, whatever was swapped above.
 */
export function openWorkspace(ref: WorkspaceRef): number {
  const ns = openNamespace(ref.root, ref.namespace, ref.nsIdentity);
  try {
    const fd = openDirAt(ns, ref.id);
    if (ref.wsIdentity && !sameDir(fstatSync(fd), ref.wsIdentity)) {
      closeSync(fd);
      throw new PathChangedError("the workspace directory");
    }
    return fd;
  } finally {
    closeSync(ns);
  }
}

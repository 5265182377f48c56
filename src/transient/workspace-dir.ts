import { closeSync, fstatSync, mkdirSync, openSync } from "node:fs";
import { LetheError } from "../core/errors.js";
import { at, openBelow, openDirAt, PathChangedError } from "../safe-fs/anchor.js";
import { type Identity, identityOf } from "../safe-fs/identity.js";

/** One workspace, by the names that lead to it from the transient root (never one string path to follow). */
export interface WorkspaceRef {
  root: string;
  namespace: string;
  id: string;
  /** The namespace directory this service opened: any other directory (or link) under its name is refused. */
  nsIdentity?: Identity;
  /** The workspace directory as created, when known (the janitor of another process does not know it). */
  wsIdentity?: Identity;
}

const NS = "the workspace namespace";
const WS = "the workspace directory";

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
export function openNamespace(root: string, namespace: string, expect?: Identity): number {
  try {
    return openBelow(root, [{ name: namespace, expect, what: NS }], { rootWhat: "the transient root" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new PathChangedError(NS);
    throw err;
  }
}

/**
 * Opens the workspace directory itself from the root (no link followed), refusing any directory but the one
 * `ref.wsIdentity` names: a name below it can then be reached with `at(fd, name)`, whatever was swapped above.
 */
export function openWorkspace(ref: WorkspaceRef): number {
  const ns = openNamespace(ref.root, ref.namespace, ref.nsIdentity);
  try {
    return openDirAt(ns, ref.id, ref.wsIdentity, WS);
  } finally {
    closeSync(ns);
  }
}

/**
 * Idle workspace directories kept open at once, process-wide. 10,000 running workspaces must not hold 10,000
 * descriptors on top of their files; one evicted is opened again from the root (identities re-checked).
 */
const MAX_OPEN = 256;
/** Open directories, least recently used first. */
const OPEN = new Set<WorkspaceDir>();

/**
 * A workspace's own directory, kept open: opened from the root without following a link and checked when the
 * workspace was created, then every file operation goes through its descriptor (`/proc/self/fd/N/<name>`),
 * so a namespace or workspace swapped later never leads a write, read or delete outside. Files are opened
 * synchronously ({@link openFile}), so the descriptor is never held across an await; {@link use} pins it for
 * an operation that must keep the directory (a delete). A descriptor is closed only when unpinned: a number
 * reused by another open must never be written through.
 *
 * @example
 * const fd = dir.openFile("e-…", WRITE_FLAGS, 0o600);
 */
export class WorkspaceDir {
  #fd: number;
  #pins = 0;
  #closed = false;

  constructor(
    /** How the directory is reached from the root, with the identities it had when created. */
    readonly ref: WorkspaceRef & { wsIdentity: Identity },
    fd: number,
  ) {
    this.#fd = fd;
    this.touch();
  }

  /** Opens `name` inside the directory (`flags` carry O_NOFOLLOW); the caller owns the file descriptor. */
  openFile(name: string, flags: number, mode?: number): number {
    return openSync(at(this.acquire(), name), flags, mode);
  }

  /** Runs `fn` with the directory's descriptor, which stays open (pinned) until `fn` settles. */
  async use<T>(fn: (fd: number) => Promise<T> | T): Promise<T> {
    const fd = this.acquire();
    this.#pins++;
    try {
      return await fn(fd);
    } finally {
      this.#pins--;
      if (this.#closed && this.#pins === 0) this.release();
    }
  }

  /** Closes the descriptor now, or as soon as the operations pinning it settle. */
  close(): void {
    this.#closed = true;
    OPEN.delete(this);
    if (this.#pins === 0) this.release();
  }

  private acquire(): number {
    if (this.#closed) throw new LetheError("CONFLICT", `workspace ${this.ref.id} is closed`);
    // Evicted: reached again from the root by names, the namespace and the workspace checked to be the same.
    if (this.#fd < 0) this.#fd = openWorkspace(this.ref);
    this.touch();
    return this.#fd;
  }

  private touch(): void {
    OPEN.delete(this);
    OPEN.add(this);
    if (OPEN.size <= MAX_OPEN) return;
    for (const d of OPEN) {
      if (OPEN.size <= MAX_OPEN) break;
      if (d === this || d.#pins > 0) continue;
      d.release();
      OPEN.delete(d);
    }
  }

  private release(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

/**
 * Creates the workspace directory (mode 0700) inside the namespace reached by {@link openNamespace} and keeps
 * it open: its identity lets cleanup tell it from a directory swapped in under its name later.
 */
export function createWorkspaceDir(ref: Omit<WorkspaceRef, "wsIdentity">): WorkspaceDir {
  const ns = openNamespace(ref.root, ref.namespace, ref.nsIdentity);
  try {
    // The umask can only narrow 0700, never widen it.
    mkdirSync(at(ns, ref.id), { mode: 0o700 });
    const fd = openDirAt(ns, ref.id, undefined, WS);
    try {
      return new WorkspaceDir({ ...ref, wsIdentity: identityOf(fstatSync(fd)) }, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  } finally {
    closeSync(ns);
  }
}

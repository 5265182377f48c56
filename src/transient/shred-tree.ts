import {
  closeSync,
  constants,
  type Dirent,
  lstatSync,
  openSync,
  readdirSync,
  rmdirSync,
  type Stats,
  unlinkSync,
} from "node:fs";
import { lstat, readdir, rmdir, unlink } from "node:fs/promises";
import { shredFile, shredFileAsync } from "../crypto/shred.js";
import { at, openDirAt } from "../safe-fs/anchor.js";
import { SYNC_MAX_BYTES } from "./file-io.js";

export interface TreeShredResult {
  files: number;
  bytes: number;
  /** Files that could only be unlinked, not overwritten (extra hard links, odd types), relative to the root. */
  unshredded: string[];
  /** The directory itself is gone. */
  removed: boolean;
  /** What went wrong, by kind of place and errno code only: never a name from inside the tree (those are the app's). */
  errors: string[];
  /** The errno codes behind `errors`, to tell a passing shortage (EMFILE) from a lasting refusal (EACCES). */
  codes: string[];
}

/** Out of descriptors or memory for a moment: trying again later can succeed. */
const PASSING = new Set(["EMFILE", "ENFILE", "EAGAIN", "ENOMEM"]);

/**
 * Whether a shred left things behind only for a passing shortage (a directory
 * left non-empty by it counts too), so a retry soon after is worth it.
 *
 * @example
 * if (!r.removed && isPassingFailure(r)) r = await shredTree(dir);
 */
export const isPassingFailure = (r: TreeShredResult): boolean =>
  r.codes.some((c) => PASSING.has(c)) && r.codes.every((c) => PASSING.has(c) || c === "ENOTEMPTY");

function fail(out: TreeShredResult, where: string, err: unknown): void {
  const c = code(err) ?? "EUNKNOWN";
  out.codes.push(c);
  out.errors.push(`${where}: ${c}`);
}

/** Names of files that only ever held ciphertext: overwritten with zeros (cheaper, as good). */
export type CipherPredicate = (relPath: string) => boolean;

interface Ops {
  lstat(p: string): Promise<Stats>;
  readdir(p: string): Promise<Dirent[]>;
  rmdir(p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  shred(p: string, fill: "zero" | "random"): Promise<{ bytes: number }>;
}

const asyncOps: Ops = {
  lstat: (p) => lstat(p),
  readdir: (p) => readdir(p, { withFileTypes: true }),
  rmdir: (p) => rmdir(p),
  unlink: (p) => unlink(p),
  shred: (p, fill) => shredFileAsync(p, { fill }),
};

/** tmpfs: every call is a memory operation, so skip the thread-pool round trips (large files still go async). */
const syncOps: Ops = {
  lstat: async (p) => lstatSync(p),
  readdir: async (p) => readdirSync(p, { withFileTypes: true }),
  rmdir: async (p) => rmdirSync(p),
  unlink: async (p) => unlinkSync(p),
  shred: async (p, fill) =>
    (lstatSync(p, { throwIfNoEntry: false })?.size ?? 0) <= SYNC_MAX_BYTES
      ? shredFile(p, { fill })
      : shredFileAsync(p, { fill }),
};

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Shreds every regular file under `dir` (never following a symlink), unlinks
 * anything else, removes the directories bottom-up and finally `dir` itself.
 * Missing entries are fine: a concurrent cleanup may have been first.
 *
 * @example
 * const r = await shredTree("/dev/shm/lethe/ns/ws_…", (rel) => rel.startsWith("e-"));
 */
export async function shredTree(
  dir: string,
  isCipher: CipherPredicate = () => false,
  opts: { memoryBacked?: boolean } = {},
): Promise<TreeShredResult> {
  const ops = opts.memoryBacked ? syncOps : asyncOps;
  const out: TreeShredResult = { files: 0, bytes: 0, unshredded: [], removed: false, errors: [], codes: [] };
  let st: Stats;
  try {
    st = await ops.lstat(dir);
  } catch (err) {
    if (code(err) === "ENOENT") return { ...out, removed: true };
    throw err;
  }
  if (!st.isDirectory()) {
    out.errors.push("the workspace path is not a directory; left alone");
    out.codes.push("ENOTDIR");
    return out;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    if (code(err) === "ENOENT") return { ...out, removed: true };
    fail(out, "workspace directory", err);
    return out;
  }
  try {
    await walk(ops, fd, "", isCipher, out);
  } finally {
    closeSync(fd);
  }
  try {
    await ops.rmdir(dir);
    out.removed = true;
  } catch (err) {
    if (code(err) === "ENOENT") out.removed = true;
    else fail(out, "workspace directory", err);
  }
  return out;
}

/** Walks the directory open as `fd`: every child is reached through it, never by a path built from strings. */
async function walk(ops: Ops, fd: number, rel: string, isCipher: CipherPredicate, out: TreeShredResult): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await ops.readdir(`/proc/self/fd/${fd}`);
  } catch (err) {
    if (code(err) !== "ENOENT") fail(out, rel ? "a directory inside" : "workspace directory", err);
    return;
  }
  for (const e of entries) {
    const childAbs = at(fd, e.name);
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      let child: number;
      try {
        child = openDirAt(fd, e.name);
      } catch (err) {
        // Swapped for a link (or gone) since it was listed: never followed.
        if (code(err) !== "ENOENT") fail(out, "a directory inside", err);
        continue;
      }
      try {
        await walk(ops, child, childRel, isCipher, out);
      } finally {
        closeSync(child);
      }
      await ops.rmdir(childAbs).catch((err: unknown) => {
        if (code(err) !== "ENOENT") fail(out, "a directory inside", err);
      });
    } else if (e.isFile()) {
      try {
        out.bytes += (await ops.shred(childAbs, isCipher(childRel) ? "zero" : "random")).bytes;
        out.files++;
      } catch (err) {
        if (code(err) === "ENOENT") continue;
        // Out of descriptors: never unlink unshredded for that; leave the file for a retry (or the janitor).
        if (PASSING.has(code(err) ?? "")) {
          fail(out, "a file inside", err);
          continue;
        }
        // Refused (e.g. a second hard link): the name must still go so the workspace can be removed.
        out.unshredded.push(childRel);
        await unlinkQuiet(ops, childAbs, out);
      }
    } else {
      await unlinkQuiet(ops, childAbs, out);
    }
  }
}

async function unlinkQuiet(ops: Ops, abs: string, out: TreeShredResult): Promise<void> {
  await ops.unlink(abs).catch((err: unknown) => {
    if (code(err) !== "ENOENT") fail(out, "an entry inside", err);
  });
}

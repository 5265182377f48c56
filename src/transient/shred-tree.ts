import { closeSync, type Dirent, lstatSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { readdir, rmdir, unlink } from "node:fs/promises";
import { shredFile, shredFileAsync } from "../crypto/shred.js";
import { at, openDirAt, PathChangedError } from "../safe-fs/anchor.js";
import type { Identity } from "../safe-fs/identity.js";
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
 * if (!r.removed && isPassingFailure(r)) r = await shredTree(nsFd, "ws_…");
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
  readdir(p: string): Promise<Dirent[]>;
  rmdir(p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  shred(p: string, fill: "zero" | "random"): Promise<{ bytes: number }>;
}

const asyncOps: Ops = {
  readdir: (p) => readdir(p, { withFileTypes: true }),
  rmdir: (p) => rmdir(p),
  unlink: (p) => unlink(p),
  shred: (p, fill) => shredFileAsync(p, { fill }),
};

/** tmpfs: every call is a memory operation, so skip the thread-pool round trips (large files still go async). */
const syncOps: Ops = {
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
 * Shreds every regular file under directory `name` of the directory open as
 * `parent` (never following a symlink, at any component), unlinks anything
 * else, removes the directories bottom-up and finally the directory itself.
 * A link, a non-directory, or (with `expect`) any directory but the expected
 * one under `name` is left alone and reported as PATH_CHANGED. Missing
 * entries are fine: a concurrent cleanup may have been first.
 *
 * @example
 * const r = await shredTree(nsFd, "ws_…", (rel) => rel.startsWith("e-"));
 */
export async function shredTree(
  parent: number,
  name: string,
  isCipher: CipherPredicate = () => false,
  opts: { memoryBacked?: boolean; expect?: Identity } = {},
): Promise<TreeShredResult> {
  const ops = opts.memoryBacked ? syncOps : asyncOps;
  const out: TreeShredResult = { files: 0, bytes: 0, unshredded: [], removed: false, errors: [], codes: [] };
  let fd: number;
  try {
    fd = openDirAt(parent, name, opts.expect, "the workspace directory");
  } catch (err) {
    if (code(err) === "ENOENT") return { ...out, removed: true };
    if (err instanceof PathChangedError) {
      out.errors.push(err.message);
      out.codes.push("PATH_CHANGED");
    } else fail(out, "workspace directory", err);
    return out;
  }
  try {
    await walk(ops, fd, "", isCipher, out);
  } finally {
    closeSync(fd);
  }
  try {
    // rmdir never follows a link and only removes an empty directory: a late swap can cost nothing.
    await ops.rmdir(at(parent, name));
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

import { randomFillSync } from "node:crypto";
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, unlinkSync, writeSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { LetheError } from "../core/errors.js";
import { PathChangedError } from "../safe-fs/anchor.js";
import { type Identity, sameInode } from "../safe-fs/identity.js";

const CHUNK = 1 << 20;
const FLAGS = constants.O_RDWR | constants.O_NOFOLLOW;

export interface ShredResult {
  bytes: number;
}

export interface ShredOptions {
  /**
   * What to overwrite with: `random` (default) for plaintext; `zero` is as
   * good and cheaper for files that only ever held ciphertext whose key is
   * being dropped anyway.
   */
  fill?: "random" | "zero";
  /** The inode the caller checked: a different file under the name (a swap) is refused, never overwritten. */
  expect?: Identity;
}

interface Inode extends Identity {
  isFile(): boolean;
  nlink: number;
}

// Messages name no path: a path holds subject ids (users/patient-00417/…) and reasons reach the ledger.
function refuse(st: Inode, expect: ShredOptions["expect"]): void {
  if (expect && !sameInode(st, expect)) throw new PathChangedError("the file");
  if (!st.isFile()) throw new LetheError("VALIDATION", "REFUSED: not a regular file; not shredded");
  if (st.nlink > 1)
    throw new LetheError(
      "VALIDATION",
      `REFUSED: the file has ${st.nlink} hard links (overwriting would destroy the other names); not shredded`,
    );
}

/** Before the unlink: the name must still be the inode that was overwritten. */
function sameName(path: string, st: Inode): void {
  const now = lstatSync(path, { throwIfNoEntry: false });
  if (now && !sameInode(now, st)) throw new PathChangedError("the file");
}

function openError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ELOOP" ? new LetheError("VALIDATION", "REFUSED: a symbolic link; not followed") : err;
}

/** Shared and never written to, so concurrent shreds can all read it (no allocation, no page faults per call). */
let zeros: Buffer | undefined;

function pattern(size: number, fill: ShredOptions["fill"]): { buf: Buffer; next(n: number): void } {
  if (fill === "zero") {
    zeros ??= Buffer.alloc(CHUNK);
    return { buf: zeros, next: () => undefined };
  }
  const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  return { buf, next: (n) => randomFillSync(buf, 0, n) };
}

/**
 * Overwrites a file in place through one descriptor, syncs, then unlinks it.
 * The overwrite happens on the same inode, so a process that already has the
 * file open reads the overwrite afterwards, not the original.
 *
 * It refuses symlinks (O_NOFOLLOW), non-regular files and files with more
 * than one hard link (overwriting would destroy the other name's content).
 * Overwriting is not a guarantee on copy-on-write, journaling or flash
 * storage; crypto-shredding is the answer there.
 *
 * @example
 * shredFile("/data/models/ckpt-1.pt");
 */
export function shredFile(path: string, opts: ShredOptions = {}): ShredResult {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    throw openError(err);
  }
  try {
    const st = fstatSync(fd);
    refuse(st, opts.expect);
    const p = pattern(st.size, opts.fill);
    let pos = 0;
    while (pos < st.size) {
      const n = Math.min(p.buf.length, st.size - pos);
      p.next(n);
      let written = 0;
      while (written < n) written += writeSync(fd, p.buf, written, n - written, pos + written);
      pos += n;
    }
    fsyncSync(fd);
    sameName(path, st);
    unlinkSync(path);
    return { bytes: st.size };
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link shredFile} without blocking the event loop, for large files in a
 * serving process.
 *
 * @example
 * await shredFileAsync("/dev/shm/lethe/…/upload.bin");
 */
export async function shredFileAsync(path: string, opts: ShredOptions = {}): Promise<ShredResult> {
  const fh = await open(path, FLAGS).catch((err: unknown) => {
    throw openError(err);
  });
  try {
    const st = await fh.stat();
    refuse(st, opts.expect);
    const p = pattern(st.size, opts.fill);
    let pos = 0;
    while (pos < st.size) {
      const n = Math.min(p.buf.length, st.size - pos);
      p.next(n);
      let written = 0;
      while (written < n) written += (await fh.write(p.buf, written, n - written, pos + written)).bytesWritten;
      pos += n;
    }
    await fh.sync();
    sameName(path, st);
    await unlink(path);
    return { bytes: st.size };
  } finally {
    await fh.close();
  }
}

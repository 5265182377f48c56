import { randomFillSync } from "node:crypto";
import { closeSync, constants, fstatSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs";
import { LetheError } from "../core/errors.js";

const CHUNK = 1 << 20;

export interface ShredResult {
  bytes: number;
}

/**
 * Overwrites a file in place through one descriptor, syncs, then unlinks it.
 * The overwrite happens on the same inode, so a process that already has the
 * file open reads random bytes afterwards, not the original.
 *
 * It refuses symlinks (O_NOFOLLOW), non-regular files and files with more
 * than one hard link (overwriting would destroy the other name's content).
 * Overwriting is not a guarantee on copy-on-write, journaling or flash
 * storage; crypto-shredding is the answer there.
 *
 * @example
 * shredFile("/data/models/ckpt-1.pt");
 */
export function shredFile(path: string): ShredResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new LetheError("VALIDATION", `refusing to shred a symbolic link: ${path}`);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new LetheError("VALIDATION", `refusing to shred something that is not a regular file: ${path}`);
    if (st.nlink > 1)
      throw new LetheError(
        "VALIDATION",
        `refusing to shred a file with ${st.nlink} hard links (the other names would be destroyed): ${path}`,
      );
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(st.size, 1)));
    let pos = 0;
    while (pos < st.size) {
      const n = Math.min(buf.length, st.size - pos);
      randomFillSync(buf, 0, n);
      let written = 0;
      while (written < n) written += writeSync(fd, buf, written, n - written, pos + written);
      pos += n;
    }
    fsyncSync(fd);
    unlinkSync(path);
    return { bytes: st.size };
  } finally {
    closeSync(fd);
  }
}

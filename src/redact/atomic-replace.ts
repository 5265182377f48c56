import { randomFillSync } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { LetheError } from "../core/errors.js";

/** What the original looked like when the scan started; any change aborts the swap. */
export interface Snapshot {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * Swaps `replacement` in for `original` so that neither a reader nor the
 * disk keeps the old bytes: the original is opened first, the redacted file
 * is renamed over it (readers see old or new content, never a mix), and the
 * old inode, now nameless, is overwritten with random bytes through the
 * still-open descriptor and synced. Overwriting before the rename would
 * leave a window where the path holds noise; this order has none.
 *
 * Refuses (and leaves everything as it was) if the file changed since the
 * scan or has other hard links, whose content the overwrite would destroy.
 * On copy-on-write, journaling or flash storage an overwrite is not a
 * guarantee that old blocks are gone.
 *
 * @example
 * await replaceAndShred("app.log", ".app.log.lethe-1a2b.tmp", snapshot);
 */
export async function replaceAndShred(original: string, replacement: string, before: Snapshot): Promise<void> {
  const fh = await open(original, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (st.dev !== before.dev || st.ino !== before.ino || st.size !== before.size || st.mtimeMs !== before.mtimeMs) {
      throw new LetheError("CONFLICT", `${original} changed while it was scanned; left as it was`);
    }
    if (st.nlink > 1) {
      throw new LetheError("CONFLICT", `${original} has ${st.nlink} hard links; overwriting would damage the others`);
    }
    await chmod(replacement, st.mode & 0o7777);
    const named = await lstat(original);
    if (named.ino !== st.ino || named.dev !== st.dev) {
      throw new LetheError("CONFLICT", `${original} was replaced while it was scanned; left as it was`);
    }
    await rename(replacement, original);
    await syncDir(dirname(original));
    await overwrite(fh, st.size);
  } finally {
    await fh.close();
  }
}

/** Random bytes over `[0, size)` through `fh`, then fsync. */
async function overwrite(fh: import("node:fs/promises").FileHandle, size: number): Promise<void> {
  const block = Buffer.allocUnsafe(Math.min(size, 1 << 20) || 1);
  for (let off = 0; off < size; ) {
    const n = Math.min(block.length, size - off);
    randomFillSync(block, 0, n);
    const { bytesWritten } = await fh.write(block, 0, n, off);
    off += bytesWritten;
  }
  await fh.sync();
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

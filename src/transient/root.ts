import { accessSync, constants, existsSync } from "node:fs";
import { chmod, lstat, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LetheError } from "../core/errors.js";
import { privateDirProblem, tooOpen } from "../safe-fs/private-dir.js";

/**
 * Where workspaces live: `transient.root` when configured, else
 * `/dev/shm/lethe` when /dev/shm exists and is writable (memory-backed, never
 * reaches a disk unless the system swaps), else `<os tmpdir>/lethe`.
 *
 * @example
 * defaultTransientRoot(); // "/dev/shm/lethe" on Linux
 */
export function defaultTransientRoot(): string {
  if (existsSync("/dev/shm")) {
    try {
      accessSync("/dev/shm", constants.W_OK | constants.X_OK);
      return "/dev/shm/lethe";
    } catch {
      // not writable for this user: fall through to the temp dir
    }
  }
  return join(tmpdir(), "lethe");
}

/** True when the path lives on a memory-backed filesystem we recognise. */
export function isMemoryBacked(path: string): boolean {
  return path === "/dev/shm" || path.startsWith("/dev/shm/") || path.startsWith("/run/shm/");
}

/**
 * Creates `dir` (mode 0700) if needed and checks it is a real directory owned
 * by this user and private: another user's directory, or a symlink planted in
 * a shared place like /dev/shm, is refused rather than written into.
 *
 * @example
 * await ensurePrivateDir("/dev/shm/lethe");
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const problem = privateDirProblem(st);
  if (problem === "link" || problem === "not-dir")
    throw new LetheError("STATE_ERROR", `transient root ${dir} is not a directory (symlinks are refused)`);
  if (problem === "owner")
    throw new LetheError(
      "STATE_ERROR",
      `transient root ${dir} belongs to another user (uid ${st.uid}); set transient.root to a private directory`,
    );
  if (tooOpen(st)) await chmod(dir, 0o700);
}

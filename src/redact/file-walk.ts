import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export type WalkEntry =
  | { path: string; stat: Stats; skipped?: undefined; error?: undefined }
  | { path: string; skipped: string; error?: undefined }
  | { path: string; error: string; skipped?: undefined };

/** Our own outputs: scanning them again would only find markers. */
const OWN_OUTPUT = /(?:\.redacted(?:\.gz)?|\.lethe-[0-9a-f]+\.tmp)$/;

/**
 * Regular files under `paths`, depth first in name order. Symlinks are never
 * followed (a link out of a log directory must not make lethe read, or with
 * `--in-place` rewrite, a file elsewhere); they and other non-regular files
 * (FIFOs would block forever) are reported as skipped, unreadable
 * directories as errors.
 *
 * @example
 * for await (const e of walkLogFiles(["/var/log/app"])) if (!e.skipped) console.log(e.path);
 */
export async function* walkLogFiles(paths: readonly string[]): AsyncGenerator<WalkEntry> {
  for (const p of paths) yield* walk(p, true);
}

async function* walk(path: string, explicit: boolean): AsyncGenerator<WalkEntry> {
  let stat: Stats;
  let names: string[] = [];
  try {
    stat = await lstat(path);
    if (stat.isDirectory()) names = (await readdir(path)).sort();
  } catch (err) {
    // An unreadable directory is reported, not fatal: the rest of the tree still gets scanned.
    yield { path, error: (err as Error).message };
    return;
  }
  if (stat.isSymbolicLink()) {
    yield { path, skipped: "symlink (not followed)" };
  } else if (stat.isDirectory()) {
    for (const name of names) {
      if (OWN_OUTPUT.test(name)) continue;
      yield* walk(join(path, name), false);
    }
  } else if (stat.isFile()) {
    yield { path, stat };
  } else if (explicit) {
    yield { path, skipped: "not a regular file" };
  }
}

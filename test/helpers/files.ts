import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** Every regular file under `dir`, recursively, absolute and sorted; symlinks are not followed. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    // lstat: a link is neither a directory nor a file here, so nothing behind it is listed.
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push(p);
  }
  return out.sort();
}

/** As {@link filesUnder}, relative to `root`. */
export function relativeFilesUnder(root: string): string[] {
  return filesUnder(root).map((p) => relative(root, p));
}

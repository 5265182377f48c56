import { lstatSync, readdirSync, type Stats } from "node:fs";
import picomatch from "picomatch";

export interface WalkedFile {
  /** Path relative to the root, with `/` separators. */
  rel: string;
  abs: string;
  stat: Stats;
}

export type Matcher = (rel: string) => boolean;

/**
 * Builds the include/exclude matcher for an fs dataset's globs: what `picomatch(globs)` answers (a name
 * equal to a glob, or its regex), without the result object picomatch builds per call, which showed in
 * the profile of a 100k-file sweep.
 *
 * @example
 * globMatcher(["ckpt/*.pt"], ["ckpt/keep-*"])("ckpt/a.pt"); // true
 */
export function globMatcher(include: string[], exclude: string[]): Matcher {
  const inc = anyOf(include);
  const exc = anyOf(exclude);
  return (rel) => inc(rel) && !exc(rel);
}

function anyOf(globs: string[]): Matcher {
  const res = globs.map((g) => picomatch.makeRe(g));
  return (rel) => {
    if (rel === "") return false;
    for (let i = 0; i < globs.length; i++) if (rel === globs[i] || (res[i] as RegExp).test(rel)) return true;
    return false;
  };
}

/**
 * Walks a root depth first without ever following a symbolic link (links to
 * directories are not entered, links to files are not reported), yielding
 * only regular files the matcher accepts. Sync I/O per directory is much
 * faster than a promise per entry on trees of 100k files.
 */
export function* walkFiles(
  root: string,
  match: Matcher,
  /** A directory that exists but cannot be read (EACCES…): it may hide matching files. */
  onUnreadable?: (dirRel: string, err: unknown) => void,
): Generator<WalkedFile> {
  const stack: string[] = [""];
  // Paths are built by concatenation, not join(): normalizing 100k paths shows in a sweep's profile.
  const prefix = root.endsWith("/") ? root : `${root}/`;
  while (stack.length > 0) {
    const dirRel = stack.pop() as string;
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dirRel ? prefix + dirRel : root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") onUnreadable?.(dirRel || ".", err);
      continue; // vanished: nothing of ours to find there
    }
    entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    for (const e of entries) {
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isDirectory()) stack.push(rel);
      else if (e.isFile() && match(rel)) {
        const abs = prefix + rel;
        try {
          const stat = lstatSync(abs);
          if (stat.isFile()) yield { rel, abs, stat };
        } catch {
          // deleted between readdir and lstat
        }
      }
    }
  }
}

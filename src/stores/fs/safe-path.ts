import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";

/**
 * Resolves `p` (relative to `root`, or absolute) and returns it only when it
 * stays inside the root both lexically and after resolving every symlink in
 * its directories. The final component is not resolved: callers lstat it and
 * refuse links, so a link is never a way to reach anything outside.
 *
 * @example
 * insideRoot("/data/models", "../etc/passwd"); // undefined
 */
export function insideRoot(
  root: string,
  p: string,
  realRoot = safeRealpath(root),
  /** Resolved parents, reused within one batch (siblings share their directory). */
  parents?: Map<string, string | undefined>,
): string | undefined {
  if (p.includes("\0")) return undefined;
  const abs = isAbsolute(p) ? resolve(p) : resolve(root, p);
  const rel = relative(resolve(root), abs);
  const lexicalOutside = rel === "" || parentward(rel) || isAbsolute(rel);
  // An absolute path may name the root through its real path.
  const relReal = relative(realRoot ?? "", abs);
  if (lexicalOutside && (realRoot === undefined || relReal === "" || parentward(relReal) || isAbsolute(relReal))) {
    return undefined;
  }
  const dir = dirname(abs);
  let parent: string | undefined;
  if (parents?.has(dir)) parent = parents.get(dir);
  else {
    parent = safeRealpath(dir);
    parents?.set(dir, parent);
  }
  if (parent === undefined) return abs; // the directory is gone, so is the file
  if (realRoot === undefined) return undefined;
  if (parent !== realRoot && !parent.startsWith(realRoot + sep)) return undefined;
  return abs;
}

export function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** `..` or `../x`: above the base. A name that merely starts with two dots (`..weird.pt`) is inside. */
function parentward(rel: string): boolean {
  return rel === ".." || rel.startsWith(`..${sep}`);
}

/**
 * `p` (relative to `root`, or absolute, possibly naming the root through its real path) as a `/`-separated
 * path relative to the root, when it stays inside it lexically; undefined otherwise. Links are not looked
 * at: removal walks the result one component at a time without following any (src/safe-fs).
 *
 * @example
 * relativeInside("/data/models", "./a/b.pt"); // "a/b.pt"
 */
export function relativeInside(root: string, p: string): string | undefined {
  if (p.includes("\0")) return undefined;
  const abs = isAbsolute(p) ? resolve(p) : resolve(root, p);
  for (const base of [resolve(root), safeRealpath(root)]) {
    if (base === undefined) continue;
    const rel = relative(base, abs);
    if (rel !== "" && !parentward(rel) && !isAbsolute(rel)) return rel.split(sep).join("/");
  }
  return undefined;
}

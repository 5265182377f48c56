import { readFileSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Directories whose contents belong to the system or to a person as a whole, never to one dataset. */
const FIXED = ["/", "/etc", "/usr", "/bin", "/sbin", "/boot", "/var", "/proc", "/sys", "/dev", "/root", "/home"];
/** `/lib`, `/lib64`, `/libx32`… and their merged-/usr targets (`/bin` → `/usr/bin`). */
const PATTERN = /^(\/usr)?\/(lib[^/]*|bin|sbin)$/;

/**
 * Why `root` (relative to `baseDir`) is a system directory, or undefined when
 * it is not. Symlinks and `..` are resolved first (as far as the path exists),
 * so `/data/../etc` or a link to `/home/alice` is caught too.
 *
 * @example
 * systemRootReason("/etc", "/"); // "resolves to /etc, a system directory; …"
 */
export function systemRootReason(root: string, baseDir: string): string | undefined {
  const lexical = resolve(baseDir, root);
  const real = realExisting(lexical);
  const isSystem = (p: string) => FIXED.includes(p) || PATTERN.test(p);
  const fixed = isSystem(real) || isSystem(lexical);
  if (!fixed && !homeDirs().has(real)) return undefined;
  const what = fixed ? "a system directory" : "a home directory";
  return `resolves to ${real}, ${what}; a store root must be a folder of its own (set allowSystemRoot: true to override)`;
}

/** Real path of the longest existing prefix, with the rest appended (a root may not exist yet). */
function realExisting(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    if (parent === p) return p;
    return resolve(realExisting(parent), p.slice(parent.length + (parent.endsWith("/") ? 0 : 1)));
  }
}

/** Home directories of /etc/passwd (both as written and resolved); `/` and empty entries skipped. */
function homeDirs(): Set<string> {
  const homes = new Set<string>();
  let text = "";
  try {
    text = readFileSync("/etc/passwd", "utf8");
  } catch {
    return homes;
  }
  for (const line of text.split("\n")) {
    const home = line.split(":")[5];
    if (!home || home === "/" || !home.startsWith("/")) continue;
    homes.add(resolve(home));
    homes.add(realExisting(resolve(home)));
  }
  return homes;
}

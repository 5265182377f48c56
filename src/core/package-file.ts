import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LetheError } from "./errors.js";

// This module sits one level below the code root (src/core, dist/core), and so does the
// bundled CLI (dist/bundle): resolving from here means the same thing in the sources, in
// the compiled tree and in the bundle, whichever module asks.
const CODE_ROOT = new URL("../", import.meta.url);

/**
 * A file shipped with lethe, by its path below the code root (`src/` when run
 * from source, `dist/` when built); `../package.json` is the package's.
 *
 * @example
 * readFileSync(packageFile("../package.json"), "utf8");
 */
export function packageFile(relative: string): string {
  return fileURLToPath(new URL(relative, CODE_ROOT));
}

/**
 * Every worker thread's entry, below the code root: the build bundles each
 * into one file in place (scripts/bundle-cli.mjs reads this list), and
 * {@link workerFile} accepts only these.
 */
export const WORKER_FILES = [
  "ledger/verify-worker.js",
  "stores/sql/sqlite-scan-worker.js",
  "stores/fs/sweep-worker.js",
] as const;

/**
 * The compiled worker at `relative` below the code root; when lethe runs from
 * its TypeScript sources (tests), the build's copy under dist/, since a
 * worker thread cannot load TypeScript.
 *
 * @example
 * new Worker(workerFile("ledger/verify-worker.js", "the verification worker"));
 */
export function workerFile(relative: (typeof WORKER_FILES)[number], what: string): URL {
  const here = new URL(relative, CODE_ROOT);
  if (!import.meta.url.endsWith(".ts")) return here;
  const built = new URL(`../dist/${relative}`, CODE_ROOT);
  if (!existsSync(fileURLToPath(built))) throw new LetheError("INTERNAL", `${what} is not built: run npm run build`);
  return built;
}

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LetheError } from "./errors.js";

/**
 * The compiled worker `name` beside the calling module; when that module runs
 * from its TypeScript source (tests), the build's copy of it under dist/,
 * since a worker thread cannot load TypeScript.
 *
 * @example
 * new Worker(workerFile(import.meta.url, "verify-worker.js", "the verification worker"));
 */
export function workerFile(moduleUrl: string, name: string, what: string): URL {
  const here = new URL(`./${name}`, moduleUrl);
  if (!moduleUrl.endsWith(".ts")) return here;
  const built = new URL(here.href.replace(/\/src\/(?!.*\/src\/)/, "/dist/"));
  if (!existsSync(fileURLToPath(built))) throw new LetheError("INTERNAL", `${what} is not built: run npm run build`);
  return built;
}

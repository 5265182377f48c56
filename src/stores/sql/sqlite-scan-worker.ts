import { parentPort, workerData } from "node:worker_threads";
import { PATTERN_TOO_LARGE, searchStore } from "./sqlite-scan.js";

/**
 * Worker thread entry (see sqlite-scan-in-worker.ts): one search of a SQLite
 * file and its WAL for erased values, so the main thread's event loop never
 * waits behind a pass over a file of gigabytes.
 */
const data = workerData as { path: string; needles: string[] };
try {
  parentPort?.postMessage({ result: searchStore(data.path, data.needles) });
} catch (err) {
  // The code only (ENOENT, EACCES…): a message would carry the file path, a regex error the erased values.
  const code = err instanceof SyntaxError ? PATTERN_TOO_LARGE : (err as NodeJS.ErrnoException).code;
  parentPort?.postMessage({ error: { code: code ?? "UNEXPECTED" } });
}

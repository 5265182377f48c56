import { Worker } from "node:worker_threads";
import { LetheError } from "../../core/errors.js";
import { workerFile } from "../../core/package-file.js";
import { PATTERN_TOO_LARGE, type SearchHits } from "./sqlite-scan.js";

/**
 * Runs {@link searchStore} in a worker thread and resolves with its hits.
 * The needles are latin1 strings (one char per byte of the encoded value).
 * A failure of the search itself rejects with a STORE_ERROR whose
 * `details.searchError` is the worker's code (an errno code, or
 * {@link PATTERN_TOO_LARGE}: see {@link isPatternTooLarge}).
 *
 * @example
 * const r = await searchInWorker("/data/app.db", ["user-42@example.com"]);
 */
export function searchInWorker(path: string, needles: string[]): Promise<SearchHits> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const file = workerFile("stores/sql/sqlite-scan-worker.js", "the scrub search worker");
    // Not the parent's flags (a test runner's loader hooks, inspector): the worker needs none.
    const worker = new Worker(file, { workerData: { path, needles }, execArgv: [] });
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    worker.once("message", (m: { result?: SearchHits; error?: { code: string } }) =>
      settle(() => {
        if (m.result) return resolve(m.result);
        const code = m.error?.code ?? "UNEXPECTED";
        reject(new LetheError("STORE_ERROR", `the scrub search failed: ${code}`, { searchError: code }));
      }),
    );
    worker.once("error", (err) =>
      settle(() =>
        reject(new LetheError("INTERNAL", `the scrub search worker failed: ${err.message}`, undefined, { cause: err })),
      ),
    );
    worker.once("exit", (code) =>
      settle(() => reject(new LetheError("INTERNAL", `the scrub search worker exited (${code}) without a result`))),
    );
  });
}

/**
 * Whether a search failed because the regex engine refused the pattern (a
 * value too long to compile), which a rewrite of the file answers instead.
 *
 * @example
 * const hits = await searchInWorker(path, needles).catch((e) => (isPatternTooLarge(e) ? undefined : Promise.reject(e)));
 */
export function isPatternTooLarge(err: unknown): boolean {
  return err instanceof LetheError && err.details?.searchError === PATTERN_TOO_LARGE;
}

import { Worker } from "node:worker_threads";
import type { LetheConfig } from "../config/types.js";
import { LetheError } from "../core/errors.js";
import { workerFile } from "../core/package-file.js";
import { corruptStateFile } from "../state/state-integrity.js";
import type { ScanOptions, ScanResult } from "./scan-ledger.js";

/**
 * Runs one ledger pass ({@link scanLatest}) in a worker thread with its own
 * read connection to the state, and resolves with its result.
 *
 * @example
 * const r = await scanInWorker(config.state, { publicPem, full: true });
 */
export function scanInWorker(state: LetheConfig["state"], options: Omit<ScanOptions, "anchor">): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    // Not the parent's flags (a test runner's loader hooks, inspector): the worker needs none.
    const worker = new Worker(workerFile("ledger/verify-worker.js", "the verification worker"), {
      workerData: { state, options },
      execArgv: [],
    });
    worker.once("message", (m: { result?: ScanResult; error?: { message: string; code?: string } }) => {
      settled = true;
      if (m.result) resolve(m.result);
      else reject(workerError(m.error));
    });
    worker.once("error", (err) => {
      if (settled) return;
      settled = true;
      reject(
        new LetheError("INTERNAL", `ledger verification worker failed: ${err.message}`, undefined, { cause: err }),
      );
    });
    worker.once("exit", (code) => {
      if (settled) return;
      settled = true;
      reject(new LetheError("INTERNAL", `ledger verification worker exited (${code}) without a result`));
    });
  });
}

/** The worker's error as the main thread reports it: tampering and a corrupt file stay AUDIT_FAILED (exit 4). */
function workerError(e: { message: string; code?: string } | undefined): LetheError {
  if (e?.code === "AUDIT_FAILED") return new LetheError("AUDIT_FAILED", e.message);
  return corruptStateFile(e) ?? new LetheError("STATE_ERROR", `ledger verification failed: ${e?.message}`);
}

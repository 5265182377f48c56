import { parentPort } from "node:worker_threads";
import { safeReason } from "../../core/safe-reason.js";
import { type SweepRequest, sweepFiles } from "./sweep.js";

/**
 * Worker thread entry (see sweeper.ts): runs fs batches with sync syscalls, one request at a time, so
 * a batch of thousands of unlinks neither blocks the main thread's event loop nor pays a promise per file.
 */
parentPort?.on("message", (req: SweepRequest & { id: number }) => {
  try {
    parentPort?.postMessage({ id: req.id, outcomes: sweepFiles(req) });
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: safeReason(err) });
  }
});

import { parentPort, workerData } from "node:worker_threads";
import type { LetheConfig } from "../config/types.js";
import { openStateReader } from "../state/read-state.js";
import { type ScanOptions, scanLatest } from "./scan-ledger.js";

/**
 * Worker thread entry (see scan-in-worker.ts): one ledger pass on a read
 * connection of its own, so the main thread's event loop never waits behind
 * it. Gets only the public key and an already authenticated mark; the head's
 * MAC is checked by the main thread, which holds the chain key.
 */
const data = workerData as { state: LetheConfig["state"]; options: Omit<ScanOptions, "anchor"> };
const reader = await openStateReader(data.state);
try {
  parentPort?.postMessage({ result: await scanLatest(reader.db, data.options) });
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort?.postMessage({ error: { message: e.message, code: e.code } });
} finally {
  await reader.close();
}

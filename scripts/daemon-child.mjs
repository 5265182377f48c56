// A server process (mariadbd, redis-server) for scripts/with-services.mjs.
// Imported: startDaemon(opts) spawns it and resolves once its log prints the ready line.
import { spawn } from "node:child_process";
import { once } from "node:events";

const READY_TIMEOUT_MS = 120_000; // generous: 9 agents share 2 cores, and MariaDB recovers InnoDB first

/**
 * Spawns `cmd args` in its own process group and waits until its stdout/stderr matches `ready`.
 * @example const d = await startDaemon({ cmd: "redis-server", args: ["--port", "6390"], cwd, ready: /Ready/, what: "redis" });
 *          await d.stop();
 * @returns `stop()`, which SIGKILLs the server (it holds only throwaway test data) and waits for it.
 */
export async function startDaemon({ cmd, args, cwd, ready, what }) {
  // detached: a terminal Ctrl-C must not kill the server under the still-running tests; we stop it ourselves.
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = once(child, "exit");
  let tail = ""; // the last few KB of output, for the error message if startup fails
  const isReady = new Promise((resolve) => {
    for (const stream of [child.stdout, child.stderr]) {
      // Keep draining after startup: a full pipe would block the server's logging and then the server.
      stream.on("data", (d) => {
        tail = (tail + d).slice(-4000);
        if (ready.test(tail)) resolve();
      });
    }
  });
  child.on("error", () => {}); // surfaces as "exit" with a code; the tail says why
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} not ready after ${READY_TIMEOUT_MS / 1000}s:\n${tail}`)),
      READY_TIMEOUT_MS,
    );
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {} // already gone
    await exited;
  };
  try {
    await Promise.race([
      isReady,
      timeout,
      exited.then(([code, sig]) =>
        Promise.reject(new Error(`${what} exited during startup (${code ?? sig}):\n${tail}`)),
      ),
    ]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { stop };
}

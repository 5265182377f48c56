// s3rver (an in-process fake S3) for scripts/with-services.mjs, in a child process of its own.
// Imported: startS3rver(dir) spawns this file and resolves once the server listens.
// Run (by startS3rver): node --openssl-legacy-provider scripts/s3rver-child.mjs <dir>; it sends { port } over IPC.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);

/**
 * Starts s3rver on 127.0.0.1 with its data in `directory`.
 * @returns the port it listens on and `stop()`, which kills it and waits for it to exit.
 */
export async function startS3rver(directory) {
  try {
    createRequire(SELF).resolve("s3rver");
  } catch {
    throw new Error("the s3rver devDependency is not installed; run `npm install` (or `npm i -D s3rver`)");
  }
  // --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
  // OpenSSL 3 disables by default; without it every truncated listing is a 500 InternalError.
  // detached: a terminal Ctrl-C must not kill S3 under the still-running tests; we stop it ourselves.
  const child = spawn(process.execPath, ["--openssl-legacy-provider", SELF, directory], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    detached: true,
  });
  const exited = once(child, "exit");
  const port = await Promise.race([
    once(child, "message").then(([msg]) => msg.port),
    exited.then(([code]) => Promise.reject(new Error(`s3rver exited during startup (code ${code})`))),
  ]);
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL"); // it holds nothing but files the caller is about to delete
      await exited;
    },
  };
}

if (process.argv[1] === SELF) {
  if (typeof process.send !== "function") throw new Error("s3rver-child: start it via startS3rver()");
  const { default: S3rver } = await import("s3rver");
  // Port 0: the kernel picks a free port atomically (no find-then-bind race).
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory: process.argv[2], silent: true });
  const { port } = await server.run();
  process.send({ port });
  // If the parent dies, even by SIGKILL, the IPC channel closes: exit rather than linger as an orphan.
  process.on("disconnect", () => process.exit(0));
}

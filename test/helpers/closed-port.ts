import { createServer } from "node:net";

/**
 * A loopback port nothing listens on (taken, then released): a store there is down.
 *
 * @example
 * const url = `postgres://lethe@127.0.0.1:${await closedPort()}/app`;
 */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

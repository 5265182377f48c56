import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { errorBody } from "./http-errors.js";

const BODY = JSON.stringify(
  errorBody("UNAVAILABLE", "too many open connections to this server; retry shortly or reuse a connection"),
);
const REFUSAL =
  "HTTP/1.1 503 Service Unavailable\r\n" +
  "Content-Type: application/json; charset=utf-8\r\n" +
  `Content-Length: ${Buffer.byteLength(BODY)}\r\n` +
  "Retry-After: 1\r\n" +
  "Connection: close\r\n\r\n" +
  BODY;
/** How long a refused socket may stay open while its answer drains (its request is never read). */
const REFUSED_LINGER_MS = 2000;

/**
 * The soft limit on open file descriptors (Linux `/proc/self/limits`), or
 * undefined where it cannot be read.
 *
 * @example
 * fdLimit(); // 20000
 */
export function fdLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The connection cap actually used: the configured one, lowered to half the
 * descriptor limit so the state database, the stores and the sockets being
 * refused still get descriptors.
 *
 * @example
 * effectiveCap(1000, 1024); // 512
 */
export function effectiveCap(configured: number, limit: number | undefined): number {
  return limit === undefined ? configured : Math.max(2, Math.min(configured, Math.floor(limit / 2)));
}

/**
 * Caps open connections at `cap`. A connection beyond it is answered at once
 * with 503 `UNAVAILABLE` (`Retry-After: 1`, `Connection: close`) and closed,
 * without its request being read, instead of being dropped silently (Node's
 * `maxConnections`) or left hanging. Connections under the cap, `/healthz`
 * included, are served as usual. Returns the number currently open.
 *
 * @example
 * const open = gateConnections(app.server, 1000); open(); // 3
 */
export function gateConnections(server: Server, cap: number, onRefused: () => void = () => undefined): () => number {
  // Node's HTTP server attaches its parser in a "connection" listener: it runs only for admitted sockets.
  const serve = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  let open = 0;
  server.on("connection", (socket: Socket) => {
    if (open >= cap) {
      onRefused();
      socket.on("error", () => undefined);
      socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
      // Reading (and discarding) what the client sends lets the 503 arrive instead of a reset.
      socket.resume();
      socket.end(REFUSAL);
      return;
    }
    open++;
    socket.once("close", () => {
      open--;
    });
    for (const listener of serve) listener.call(server, socket);
  });
  return () => open;
}

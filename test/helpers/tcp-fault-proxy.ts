import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a real server (PostgreSQL here) that can
 * lose a reply: once armed with a pattern, the first client message
 * containing it is forwarded, the server's answer is awaited (so the
 * statement ran and committed), and then both sides are cut without passing
 * the answer on. The client sees a reset connection; the server did the work.
 * Every other byte passes through untouched, so reconnects work normally.
 *
 * @example
 * const proxy = await startTcpFaultProxy(5432);
 * proxy.loseReplyTo("delete from");
 */
export interface TcpFaultProxy {
  port: number;
  /**
   * Arms the fault for the next client message containing `pattern` (ASCII, case-insensitive);
   * with `thenDown`, the server also looks down afterwards (`down = true`) until the test says otherwise;
   * with `after`, only a message on a connection that has already sent one containing `after` counts
   * (e.g. the COMMIT of the transaction that deleted from one table: `loseReplyTo("commit", false, 'from "logs"')`).
   */
  loseReplyTo(pattern: string, thenDown?: boolean, after?: string): void;
  /** How many replies were lost so far. */
  readonly lost: number;
  /** While true, every new connection is cut at once (the server looks down). */
  down: boolean;
  /** How many connections were cut at once because `down` was set. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(upstreamPort: number, upstreamHost = "127.0.0.1"): Promise<TcpFaultProxy> {
  let armed: string | undefined;
  let armedAfter: string | undefined;
  let lost = 0;
  let refused = 0;
  let downAfterLoss = false;
  const sockets = new Set<Socket>();
  const proxy: TcpFaultProxy = {
    port: 0,
    down: false,
    loseReplyTo(pattern: string, thenDown = false, after?: string) {
      armed = pattern.toLowerCase();
      armedAfter = after?.toLowerCase();
      downAfterLoss = thenDown;
    },
    get lost() {
      return lost;
    },
    get refused() {
      return refused;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((client) => {
    if (proxy.down) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(upstreamPort, upstreamHost);
    sockets.add(client);
    sockets.add(upstream);
    let cutOnReply = false;
    let sawAfter = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      const text = armed === undefined ? "" : chunk.toString("latin1").toLowerCase();
      if (armed !== undefined && (armedAfter === undefined || sawAfter) && text.includes(armed)) {
        armed = undefined;
        cutOnReply = true;
      } else if (armedAfter !== undefined && text.includes(armedAfter)) sawAfter = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (cutOnReply) {
        lost++;
        if (downAfterLoss) proxy.down = true;
        cut();
        return;
      }
      client.write(chunk);
    });
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", () => {
      upstream.destroy();
      sockets.delete(client);
    });
    upstream.on("close", () => {
      client.destroy();
      sockets.delete(upstream);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
  proxy.port = address.port;
  return proxy;
}

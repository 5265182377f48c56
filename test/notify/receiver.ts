import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  raw: string;
  body: { id: string; event: string; at: string; source: string; data: Record<string, unknown> };
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A real webhook receiver on 127.0.0.1 that checks X-Lethe-Signature exactly
 * as docs/notifications.md tells receivers to. `down()` closes the port,
 * `up()` listens again on the same port (a receiver that comes back).
 */
export async function receiver(secret: string, opts: { status?: number } = {}) {
  const got: Received[] = [];
  const badSignatures: string[] = [];
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      const srv = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const expected = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
          const sig = String(req.headers["x-lethe-signature"] ?? "");
          const ok = sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
          if (!ok) badSignatures.push(sig);
          else got.push({ raw, body: JSON.parse(raw) as Received["body"], headers: req.headers });
          res.statusCode = ok ? (opts.status ?? 204) : 401;
          res.end();
        });
      });
      server = srv;
      srv.listen(port, "127.0.0.1", () => {
        port = (srv.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    got,
    badSignatures,
    get url() {
      return `http://127.0.0.1:${port}/hooks/lethe`;
    },
    async down() {
      const s = server;
      server = undefined;
      await new Promise<void>((r) => {
        if (!s) return r();
        s.close(() => r());
        s.closeAllConnections();
      });
    },
    up: listen,
    events: () => got.map((g) => g.body.event),
  };
}

import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fdLimit } from "../../src/server/connection-gate.js";
import { makeProject } from "../helpers/project.js";
import { until } from "./helpers.js";
import { api, createToken, type ServeProcess, startServe } from "./serve-process.js";

// Spawns the BUILT CLI: run `npm run build` first.
const running: ServeProcess[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of running.splice(0)) {
    s.signal("SIGKILL");
    await s.exited;
  }
});

async function serve(server: string): Promise<ServeProcess & { dir: string }> {
  const p = makeProject({ logs: 4, extraYaml: `server: ${server}\n` });
  const s = await startServe(p.dir);
  running.push(s);
  return { ...s, dir: p.dir };
}

/** One request on a fresh connection (no keep-alive pool holding sockets open): status and body. */
function get(port: number, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path, agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${path} within 10 s`)));
    req.end();
  });
}

/**
 * Opens `n` sockets, `parallel` connecting at a time (in order by default); each resolves "closed" when the
 * server ends it. Written: `first` bytes, then nothing.
 */
async function openStalled(
  port: number,
  n: number,
  first: (i: number) => string,
  parallel = 1,
): Promise<Promise<string>[]> {
  const closed: Promise<string>[] = [];
  for (let from = 0; from < n; from += parallel)
    await Promise.all(
      Array.from({ length: Math.min(parallel, n - from) }, (_, k) => openOne(port, from + k, first, closed)),
    );
  return closed;
}

async function openOne(port: number, i: number, first: (i: number) => string, closed: Promise<string>[]) {
  const socket = connect({ port, host: "127.0.0.1" });
  sockets.push(socket);
  let got = "";
  socket.on("data", (d) => {
    got += d;
  });
  closed.push(new Promise((resolve) => socket.on("close", () => resolve(got))));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const text = first(i);
  if (text) socket.write(text);
}

/** Settles `p` or rejects after `ms` (a bound on the test, not a sleep asserting absence). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)),
  ]);
}

describe("lethe serve against hostile clients", () => {
  it("closes 3,000 connections that never finish their headers within headersTimeout, while /healthz answers", async () => {
    // Each side (this process, the server) holds one descriptor per socket.
    const n = Math.min(3000, Math.floor(((fdLimit() ?? 4096) - 256) / 2));
    expect(n).toBeGreaterThanOrEqual(500);
    const s = await serve("{ headersTimeout: 2s, maxConnections: 5000 }");
    const started = Date.now();
    // Half send nothing at all, half a request line and one header, then stall (slowloris); 50 connect at once.
    const closed = await openStalled(s.port, n, (i) => (i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n" : ""), 50);
    expect((await get(s.port, "/healthz")).status).toBe(200);
    // headersTimeout + Node's 1 s check interval + generous slack for a loaded machine.
    await within(Promise.all(closed), 20_000, `closing ${n} stalled connections`);
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect((await get(s.port, "/healthz")).status).toBe(200);
  }, 60_000);

  it("answers 503 beyond server.maxConnections (no hang), serves /healthz up to the cap, and recovers", async () => {
    const s = await serve("{ maxConnections: 40, headersTimeout: 60s }");
    // 39 idle connections; the 40th may still ask for /healthz.
    await openStalled(s.port, 39, () => "");
    expect((await get(s.port, "/healthz")).status).toBe(200);
    await openStalled(s.port, 1, () => "");
    const extra = await openStalled(s.port, 20, () => "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const answers = await within(Promise.all(extra), 10_000, "refusing the connections beyond the cap");
    for (const a of answers) {
      expect(a).toMatch(/^HTTP\/1\.1 503 /);
      expect(a).toContain('"code":"UNAVAILABLE"');
    }
    const r = await get(s.port, "/healthz").catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
    expect(r.status).toBe(503);
    for (const sock of sockets.splice(0)) sock.destroy();
    await until(async () => (await get(s.port, "/healthz")).status === 200, 10_000);
    const metrics = await api(s.base, await createToken(s.dir, "read"), "/metrics");
    expect(metrics.text).toMatch(/lethe_http_connections_refused_total [1-9]/);
  }, 60_000);

  it("a token beyond its rate gets 429 with Retry-After; another token is unaffected", async () => {
    const s = await serve(
      "{ rateLimit: { erasure: { perSecond: 0.01, burst: 3 }, reads: { perSecond: 0.01, burst: 2 } } }",
    );
    const dir = s.dir;
    const a = await createToken(dir, "erasure:write,read");
    const b = await createToken(dir, "erasure:write,read");
    const post = (t: string, i: number) =>
      api(s.base, t, "/v1/erasure-requests", { method: "POST", body: { subject: `user-${i}` } });
    for (let i = 0; i < 3; i++) expect((await post(a, i)).status).toBe(202);
    const limited = await fetch(`${s.base}/v1/erasure-requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${a}`, "content-type": "application/json" },
      body: JSON.stringify({ subject: "user-9" }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    expect((await post(b, 5)).status).toBe(202);
    // Expensive reads are limited per token too, and separately from intake.
    expect((await api(s.base, a, "/v1/plan")).status).toBe(200);
    expect((await api(s.base, a, "/v1/datasets")).status).toBe(200);
    expect((await api(s.base, a, "/v1/audit/verify")).status).toBe(429);
    expect((await api(s.base, b, "/v1/audit/verify")).status).toBe(200);
  }, 60_000);
});

import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject } from "../helpers/project.js";
import { bearer, footprint, type Harness, harness } from "./helpers.js";

const json = { "content-type": "application/json" };

describe("bad requests: clear 4xx with a stable code, nothing stored", () => {
  let h: Harness;
  beforeAll(async () => {
    // A small body limit so "oversized" is cheap to send.
    h = await harness(makeProject(), { bodyLimit: 4096 });
  });
  afterAll(async () => h.close());

  const posts = [
    { url: "/v1/erasure-requests", valid: { subject: "user-1" } },
    { url: "/v1/events/inference-complete", valid: { requestId: "r1", artifacts: [{ dataset: "logs", key: 2 }] } },
    { url: "/v1/holds", valid: { subject: "user-1", reason: "litigation" } },
    { url: "/v1/runs", valid: { dataset: "logs" } },
  ];

  async function post(url: string, payload: string, headers: Record<string, string> = json) {
    return h.app.inject({ method: "POST", url, payload, headers: { ...bearer(h.tokens.admin), ...headers } });
  }

  it("malformed JSON → 400 VALIDATION", async () => {
    const before = await footprint(h.lethe);
    for (const { url } of posts)
      for (const bad of ['{"subject": "user-1"', "{subject: 1}", "[1,2", "nul", '{"a":1}{']) {
        const r = await post(url, bad);
        expect(r.statusCode, `${url} ${bad}`).toBe(400);
        expect(r.json().error.code).toBe("VALIDATION");
      }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("wrong types, missing fields and unknown fields → 400 naming the field", async () => {
    const before = await footprint(h.lethe);
    const cases: [string, unknown, string][] = [
      ["/v1/erasure-requests", { subject: 42 }, "subject"],
      ["/v1/erasure-requests", {}, "subject"],
      ["/v1/erasure-requests", { subject: "" }, "subject"],
      ["/v1/erasure-requests", { subject: "user-1", receivedAt: "yesterday" }, "receivedAt"],
      ["/v1/erasure-requests", { subject: "user-1", admin: true }, "admin"],
      ["/v1/erasure-requests", ["user-1"], "(body)"],
      ["/v1/events/inference-complete", { requestId: "r1" }, "artifacts"],
      ["/v1/events/inference-complete", { requestId: "r1", artifacts: [{ dataset: "logs", key: 1, x: 1 }] }, "x"],
      ["/v1/events/inference-complete", { requestId: "r1", artifacts: [{ dataset: "nope", key: 1 }] }, "nope"],
      ["/v1/events/inference-complete", { requestId: 7, artifacts: [] }, "requestId"],
      ["/v1/events/inference-complete", { requestId: "r1", artifacts: [], extra: 1 }, "extra"],
      ["/v1/holds", { subject: "user-1" }, "reason"],
      ["/v1/holds", { subject: "user-1", dataset: "logs", reason: "x" }, "exactly one"],
      ["/v1/holds", { dataset: "logs", reason: "x", until: "soon" }, "until"],
      ["/v1/holds", { subject: "u", reason: "x", scope: "all" }, "scope"],
      ["/v1/runs", { dataset: 5 }, "dataset"],
      ["/v1/runs", { force: "yes" }, "force"],
      ["/v1/runs", { dataset: "logs", dryRun: true }, "dryRun"],
    ];
    for (const [url, body, mention] of cases) {
      const r = await post(url, JSON.stringify(body));
      expect(r.statusCode, `${url} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json().error.code, url).toBe("VALIDATION");
      expect(r.json().error.message, `${url} ${JSON.stringify(body)}`).toContain(mention);
    }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("a body over the limit → 413 PAYLOAD_TOO_LARGE; a non-JSON body → 415", async () => {
    const before = await footprint(h.lethe);
    for (const { url } of posts) {
      const big = JSON.stringify({ subject: "x".repeat(10_000) });
      const r = await post(url, big);
      expect(r.statusCode, url).toBe(413);
      expect(r.json().error.code).toBe("PAYLOAD_TOO_LARGE");
      const t = await post(url, "subject=user-1", { "content-type": "text/plain" });
      expect(t.statusCode, url).toBe(415);
      expect(t.json().error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
      // POST /v1/runs takes an optional body: empty means {} and starts a run (test/server/empty-body.test.ts).
      if (url === "/v1/runs") continue;
      const empty = await post(url, "", json);
      expect(empty.statusCode, url).toBe(400);
    }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("prototype-poisoning keys are refused, saying which key is not allowed (not 'invalid JSON')", async () => {
    const before = await footprint(h.lethe);
    const cases: [string, string, string][] = [
      ["/v1/erasure-requests", '{"subject":"u","__proto__":{"admin":true}}', "__proto__"],
      ["/v1/holds", '{"subject":"u","reason":"x","constructor":{"prototype":{"admin":true}}}', "constructor.prototype"],
      [
        "/v1/events/inference-complete",
        '{"requestId":"r1","artifacts":[{"dataset":"logs","key":1,"__proto__":{}}]}',
        "artifacts.0.__proto__",
      ],
    ];
    for (const [url, body, key] of cases) {
      const r = await post(url, body);
      expect(r.statusCode, body).toBe(400);
      expect(r.json().error.code, body).toBe("VALIDATION");
      expect(r.json().error.message, body).toBe(`${key}: this key is not allowed in a request body`);
    }
    // Still plain malformed JSON when it is: a bad body with such a key is not blamed on the key.
    const bad = await post("/v1/erasure-requests", '{"__proto__":{}');
    expect(bad.json().error).toEqual({ code: "VALIDATION", message: "the body is not valid JSON" });
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("errors before routing and from the HTTP parser keep lethe's error shape (real socket)", async () => {
    const bad = await h.app.inject({ url: "/v1/runs/%E0%A4%A", headers: bearer(h.tokens.admin) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: "VALIDATION", message: expect.stringContaining("path") } });

    // inject() skips Node's HTTP parser: these need a listening server and raw bytes.
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (h.app.server.address() as AddressInfo).port;
    const cases: [string, number][] = [
      [`GET /v1/datasets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${"a".repeat(100_000)}\r\n\r\n`, 431],
      ["GET /v1/datasets HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400],
      ['POST /v1/erasure-requests HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{"subject":"u"}', 400],
      ["GET /healthz HTTP/9.9 junk\r\n\r\n", 400],
    ];
    for (const [request, status] of cases) {
      const label = `${request.slice(0, 40)} → ${status}`;
      const res = parseRaw(await rawHttp(port, request));
      expect(res.status, label).toBe(status);
      expect(res.headers["content-type"], label).toMatch(/^application\/json/);
      expect(Number(res.headers["content-length"]), label).toBe(Buffer.byteLength(res.body));
      expect(JSON.parse(res.body), label).toEqual({ error: { code: "VALIDATION", message: expect.any(String) } });
    }
  });

  it("bad query strings → 400; unknown routes → 404 in the same error shape", async () => {
    const get = (url: string) => h.app.inject({ method: "GET", url, headers: bearer(h.tokens.admin) });
    for (const url of [
      "/v1/audit",
      "/v1/audit?key=5",
      "/v1/audit?dataset=logs&color=red",
      "/v1/audit?dataset=logs&limit=0",
      "/v1/plan?dataset=logs&x=1",
      "/v1/erasure-requests?status=lost",
      "/v1/erasure-requests?overdue=maybe",
      "/v1/forecast?days=1000",
      "/v1/runs?limit=abc",
    ]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error.code).toBe("VALIDATION");
    }
    const nf = await get("/v1/nothing-here");
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String) } });
    const unknownDataset = await get("/v1/plan?dataset=nope");
    expect(unknownDataset.statusCode).toBe(400);
  });
});

/** Sends raw bytes and resolves with everything the server writes before it closes the connection. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the server did not close the connection"));
    }, 10_000);
    socket.on("data", (d) => chunks.push(d));
    // The server may reset the connection once it answered, while the request is still being written.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    socket.write(request);
  });
}

function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`no complete HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine = "", ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: raw.slice(end + 4) };
}

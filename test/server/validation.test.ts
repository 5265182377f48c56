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
      const empty = await post(url, "", json);
      expect(empty.statusCode, url).toBe(400);
    }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("prototype-poisoning keys are refused", async () => {
    const before = await footprint(h.lethe);
    const r = await post("/v1/erasure-requests", '{"subject":"u","__proto__":{"admin":true}}');
    expect(r.statusCode).toBe(400);
    expect(await footprint(h.lethe)).toEqual(before);
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

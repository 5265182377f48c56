import { afterEach, describe, expect, it } from "vitest";
import { effectiveCap } from "../../src/server/connection-gate.js";
import { shapeProblem } from "../../src/server/json-shape.js";
import { RateLimiter } from "../../src/server/rate-limit.js";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness, until } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const json = { "content-type": "application/json" };

describe("request shape limits (before JSON.parse)", () => {
  it("names where a body nests too deep or an array grows too long", () => {
    const limits = { maxDepth: 3, maxArray: 4 };
    expect(shapeProblem('{"a":[[1]]}', limits)).toBeUndefined();
    expect(shapeProblem('{"a":[[[1]]]}', limits)).toBe("body.a.0.0: nested deeper than 3 levels");
    expect(shapeProblem('{"artifacts":[1,2,3,4]}', limits)).toBeUndefined();
    expect(shapeProblem('{"artifacts":[1,2,3,4,5]}', limits)).toBe("body.artifacts: an array of more than 4 elements");
    // Brackets and commas inside strings are text, not structure.
    expect(shapeProblem('{"k":"[[[[,,,,,,]]]]\\"[[[["}', limits)).toBeUndefined();
  });

  it("refuses an 800 KB deeply nested body with 400 before parsing it", async () => {
    h = await harness(makeProject());
    const depth = 400_000;
    const payload = `{"requestId":"r1","artifacts":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    expect(payload.length).toBeGreaterThan(800_000);
    const started = process.cpuUsage();
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/events/inference-complete",
      headers: { ...bearer(h.tokens.events), ...json },
      payload,
    });
    const cpu = process.cpuUsage(started);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toEqual({
      code: "VALIDATION",
      message:
        "body.artifacts.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: nested deeper than 32 levels",
    });
    // Generous: the scan stops at the 33rd bracket; a parse of the whole body costs ~0.25 s.
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(200);
    const wide = `{"requestId":"r2","artifacts":[${Array.from({ length: 10_001 }, () => "0").join(",")}]}`;
    const w = await h.app.inject({
      method: "POST",
      url: "/v1/events/inference-complete",
      headers: { ...bearer(h.tokens.events), ...json },
      payload: wide,
    });
    expect(w.statusCode).toBe(400);
    expect(w.json().error.message).toBe("body.artifacts: an array of more than 10000 elements");
  });
});

describe("per-token rate limits", () => {
  it("refills continuously per token and class, and says how long to wait", () => {
    let now = 0;
    const rl = new RateLimiter(
      { events: { perSecond: 2, burst: 2 }, erasure: { perSecond: 1, burst: 1 }, reads: { perSecond: 0.1, burst: 1 } },
      () => now,
    );
    expect([rl.take("events", "a"), rl.take("events", "a"), rl.take("events", "a")]).toEqual([0, 0, 1]);
    expect(rl.take("events", "b")).toBe(0);
    expect(rl.take("erasure", "a")).toBe(0);
    now = 500;
    expect(rl.take("events", "a")).toBe(0);
    expect(rl.take("reads", "a")).toBe(0);
    expect(rl.take("reads", "a")).toBe(10);
  });

  it("answers 429 with Retry-After through the API, before the body is read", async () => {
    const p = makeProject({ extraYaml: "server: { rateLimit: { events: { perSecond: 0.5, burst: 1 } } }\n" });
    h = await harness(p);
    const send = (payload: string) =>
      h?.app.inject({
        method: "POST",
        url: "/v1/events/inference-complete",
        headers: { ...bearer(h.tokens.events), ...json },
        payload,
      });
    expect((await send(JSON.stringify({ requestId: "r1", artifacts: [] })))?.statusCode).not.toBe(429);
    const r = await send("not even JSON");
    expect(r?.statusCode).toBe(429);
    expect(r?.headers["retry-after"]).toBe("2");
    expect(r?.json().error.code).toBe("RATE_LIMITED");
  });
});

describe("expensive reads", () => {
  it("runs one ledger verification at a time: concurrent callers share its result", async () => {
    h = await harness(makeProject());
    const { lethe } = h;
    let calls = 0;
    const real = lethe.audit.verify;
    (lethe.audit as { verify: typeof real }).verify = (cp) => {
      calls++;
      return real(cp);
    };
    const rs = await Promise.all(
      [1, 2, 3].map(() => h?.app.inject({ method: "GET", url: "/v1/audit/verify", headers: bearer(h.tokens.read) })),
    );
    expect(rs.map((r) => r?.statusCode)).toEqual([200, 200, 200]);
    expect(calls).toBe(1);
    await h.app.inject({ method: "GET", url: "/v1/audit/verify", headers: bearer(h.tokens.read) });
    expect(calls).toBe(2);
  });

  it("exports the event-loop delay", async () => {
    h = await harness(makeProject());
    const app = h.app;
    const read = h.tokens.read;
    // Sampled every 10 ms: the first scrape may come before the first sample.
    const m = await until(async () => {
      const r = await app.inject({ method: "GET", url: "/metrics", headers: bearer(read) });
      return /lethe_event_loop_delay_seconds\{quantile="0\.99"\} \d/.test(r.body) ? r : undefined;
    });
    expect(m.body).toMatch(/lethe_http_open_connections \d/);
  });
});

describe("connection cap", () => {
  it("stays below half the descriptor limit", () => {
    expect(effectiveCap(1000, 20_000)).toBe(1000);
    expect(effectiveCap(1000, 1024)).toBe(512);
    expect(effectiveCap(1000, undefined)).toBe(1000);
  });
});

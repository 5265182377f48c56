import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject } from "../helpers/project.js";
import { bearer, footprint, type Harness, harness } from "./helpers.js";

// Every protected endpoint with the scope that must be refused without admin.
const PROTECTED: { method: "GET" | "POST" | "DELETE"; url: string; scopes: string[] }[] = [
  { method: "POST", url: "/v1/erasure-requests", scopes: ["erasure:write"] },
  { method: "GET", url: "/v1/erasure-requests", scopes: ["read", "erasure:write"] },
  { method: "GET", url: "/v1/erasure-requests/req_x", scopes: ["read", "erasure:write"] },
  { method: "POST", url: "/v1/events/inference-complete", scopes: ["events:write"] },
  { method: "GET", url: "/v1/plan", scopes: ["read"] },
  { method: "POST", url: "/v1/runs", scopes: [] },
  { method: "GET", url: "/v1/runs/run_x", scopes: ["read"] },
  { method: "GET", url: "/v1/audit?dataset=logs", scopes: ["read"] },
  { method: "GET", url: "/v1/audit/verify", scopes: ["read"] },
  { method: "POST", url: "/v1/holds", scopes: [] },
  { method: "DELETE", url: "/v1/holds/hold_x", scopes: [] },
  { method: "GET", url: "/v1/receipts/req_x", scopes: ["read", "erasure:write"] },
  { method: "POST", url: "/v1/receipts/req_x", scopes: ["erasure:write"] },
  { method: "GET", url: "/metrics", scopes: ["read"] },
  { method: "GET", url: "/openapi.json", scopes: ["read"] },
  { method: "GET", url: "/v1/datasets", scopes: ["read"] },
  { method: "GET", url: "/v1/forecast", scopes: ["read"] },
];

describe("bearer-token auth", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(makeProject());
  });
  afterAll(async () => h.close());

  it("health endpoints and the dashboard shell need no token", async () => {
    for (const url of ["/healthz", "/readyz", "/", "/dashboard/app.js", "/dashboard/style.css"]) {
      const r = await h.app.inject({ method: "GET", url });
      expect(r.statusCode, url).toBe(200);
    }
    expect((await h.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
  });

  it("401 without a token, with a malformed header, a wrong token or a revoked one; nothing stored", async () => {
    const before = await footprint(h.lethe);
    const revoked = await h.app.lethe.tokens.create(["admin"]);
    await h.app.lethe.tokens.revoke(revoked.id);
    const wrongSecret = `${h.tokens.admin.slice(0, -4)}AAAA`;
    const variants: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: "Basic abc" },
      { authorization: "Bearer" },
      bearer("not-a-lethe-token"),
      bearer(wrongSecret),
      bearer(revoked.token),
    ];
    for (const ep of PROTECTED)
      for (const headers of variants) {
        const r = await h.app.inject({
          method: ep.method,
          url: ep.url,
          headers: { ...(headers ?? {}), "content-type": "application/json" },
          payload: ep.method === "POST" ? JSON.stringify({ subject: "user-1", reason: "x" }) : undefined,
        });
        expect(r.statusCode, `${ep.method} ${ep.url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.json().error.code).toBe("UNAUTHORIZED");
      }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("the auth scheme is case-insensitive (RFC 7235): bearer, BEARER and bEaReR all work", async () => {
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const r = await h.app.inject({ url: "/v1/datasets", headers: { authorization: `${scheme} ${h.tokens.read}` } });
      expect(r.statusCode, scheme).toBe(200);
      const wrong = await h.app.inject({
        url: "/v1/datasets",
        headers: { authorization: `${scheme} ${h.tokens.read.slice(0, -4)}AAAA` },
      });
      expect(wrong.statusCode, scheme).toBe(401);
    }
  });

  it("403 for a valid token without the scope, distinct from 401; admin may call everything", async () => {
    const before = await footprint(h.lethe);
    const byScope = { read: h.tokens.read, "erasure:write": h.tokens.erasure, "events:write": h.tokens.events };
    for (const ep of PROTECTED)
      for (const [scope, token] of Object.entries(byScope)) {
        const r = await h.app.inject({ method: ep.method, url: ep.url, headers: bearer(token) });
        if (ep.scopes.includes(scope)) expect(r.statusCode, `${scope} ${ep.method} ${ep.url}`).not.toBe(403);
        else {
          expect(r.statusCode, `${scope} ${ep.method} ${ep.url}`).toBe(403);
          expect(r.json().error).toMatchObject({ code: "FORBIDDEN" });
        }
      }
    for (const ep of PROTECTED) {
      const r = await h.app.inject({ method: ep.method, url: ep.url, headers: bearer(h.tokens.admin) });
      expect([401, 403], `${ep.method} ${ep.url}`).not.toContain(r.statusCode);
    }
    // The forbidden POSTs stored nothing (GETs above may add plan/verify entries, so compare stores only).
    const after = await footprint(h.lethe);
    expect({ ...after, ledger: 0, runs: 0 }).toEqual({ ...before, ledger: 0, runs: 0 });
  });

  it("tokens are stored as SHA-256 only and can be listed without their secret", async () => {
    const t = await h.app.lethe.tokens.create(["read", "events:write"], "ci");
    const row = await h.lethe.state.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("id", "=", t.id)
      .executeTakeFirstOrThrow();
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    // The secret is base64url and may itself contain "_" (even start with it): cut after the id, never split.
    const secret = /^lethe_[0-9a-f]{12}_(.{43})$/.exec(t.token)?.[1];
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(row)).not.toContain(secret);
    const listed = (await h.app.lethe.tokens.list()).find((x) => x.id === t.id);
    expect(listed).toMatchObject({ id: t.id, scopes: ["read", "events:write"], label: "ci" });
    expect(JSON.stringify(listed)).not.toContain(t.token);
  });
});

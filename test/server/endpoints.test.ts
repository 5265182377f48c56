import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ids, makeProject, type Project } from "../helpers/project.js";
import { bearer, type Harness, harness, until } from "./helpers.js";

describe("HTTP API endpoints against a real project", () => {
  let p: Project;
  let h: Harness;
  const get = (url: string, token = h.tokens.read) => h.app.inject({ method: "GET", url, headers: bearer(token) });
  const post = (url: string, body: unknown, token = h.tokens.admin) =>
    h.app.inject({ method: "POST", url, payload: body as object, headers: bearer(token) });

  beforeAll(async () => {
    p = makeProject({ logs: 40, expiredEvery: 4 });
    h = await harness(p);
  });
  afterAll(async () => h.close());

  it("GET /v1/plan answers as lethe plan --json", async () => {
    const r = await get("/v1/plan");
    expect(r.statusCode).toBe(200);
    const plan = r.json();
    expect(plan).toMatchObject({ planId: expect.stringMatching(/^plan_/), at: expect.any(String) });
    const logs = plan.datasets.find((d: { name: string }) => d.name === "logs");
    expect(logs).toMatchObject({ name: "logs", store: "appdb", total: 40, expired: 10, held: 0 });
    expect(logs.items).toBeUndefined();
    expect((await get("/v1/plan?dataset=logs")).json().datasets).toHaveLength(1);
  });

  it("GET /v1/datasets and /v1/forecast agree with the data", async () => {
    const d = (await get("/v1/datasets")).json();
    const logs = d.datasets.find((x: { name: string }) => x.name === "logs");
    expect(logs).toMatchObject({ total: 40, expired: 10, kind: "sql", schedule: "0 2 * * *" });
    // Expired rows are 40 days old with a 30-day retention: about 10 days overdue.
    expect(logs.lagSeconds).toBeGreaterThan(9.9 * 86_400);
    expect(logs.lagSeconds).toBeLessThan(10.1 * 86_400);
    const f = (await get("/v1/forecast")).json();
    expect(f.days).toHaveLength(30);
    const counts = f.datasets.find((x: { name: string }) => x.name === "logs").counts as number[];
    // The 30 fresh rows are 5 days old: they expire in 25 days, on day 24 or 25 depending on the hour.
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(counts[24]! + counts[25]!).toBe(30);
    expect(f.total).toEqual(counts.map((n, i) => n + (f.datasets[1].counts?.[i] ?? 0)));
  });

  it("POST /v1/runs starts a run (202), GET /v1/runs/:id shows it finishing, rows are gone", async () => {
    const r = await post("/v1/runs", { dataset: "logs" });
    expect(r.statusCode).toBe(202);
    const { runId, status } = r.json();
    expect(status).toBe("running");
    expect(r.headers.location).toBe(`/v1/runs/${runId}`);
    const run = await until(async () => {
      const x = (await get(`/v1/runs/${runId}`)).json();
      return x.status !== "running" && x;
    });
    expect(run).toMatchObject({ id: runId, kind: "retention", status: "ok" });
    expect(ids(p.db, "logs")).toHaveLength(30);
    expect((await get("/v1/runs")).json().runs.map((x: { id: string }) => x.id)).toContain(runId);
    expect((await get("/v1/runs/run_nope")).statusCode).toBe(404);
  });

  it("GET /v1/audit answers by dataset+key, by run and by subject", async () => {
    const byKey = (await get("/v1/audit?dataset=logs&key=4")).json().entries;
    expect(byKey.map((e: { action: string }) => e.action)).toContain("deleted");
    const bySubject = (await get("/v1/audit?subject=user-4")).json().entries;
    expect(bySubject.length).toBeGreaterThan(0);
    expect(JSON.stringify(bySubject)).not.toContain("user-4");
  });

  it("erasure requests: 202 on create, processed, shown as requests show, receipt once answered", async () => {
    const created = await post("/v1/erasure-requests", { subject: "user-1", reason: "GDPR Art. 17" }, h.tokens.erasure);
    expect(created.statusCode).toBe(202);
    const c = created.json();
    expect(c).toMatchObject({ id: expect.stringMatching(/^req_/), status: "received" });
    expect(Date.parse(c.dueAt) - Date.parse(c.receivedAt)).toBe(30 * 86_400_000);
    const early = await get(`/v1/receipts/${c.id}`);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe("CONFLICT");

    await h.lethe.requests.process(c.id);
    const shown = (await get(`/v1/erasure-requests/${c.id}`, h.tokens.erasure)).json();
    expect(shown).toMatchObject({ id: c.id, status: "completed", overdue: false });
    expect(shown.datasets.find((d: { name: string }) => d.name === "logs").deleted).toBeGreaterThan(0);
    expect(ids(p.db, "logs").some((id) => id % 5 === 1)).toBe(false);

    const list = (await get("/v1/erasure-requests?status=completed")).json().requests;
    expect(list.map((x: { id: string }) => x.id)).toContain(c.id);
    expect((await get("/v1/erasure-requests?overdue=true")).json().requests).toEqual([]);

    const receipt = await get(`/v1/receipts/${c.id}`);
    expect(receipt.statusCode).toBe(200);
    expect(receipt.json()).toMatchObject({
      receipt: { requestId: c.id, status: "completed" },
      signature: { alg: "Ed25519" },
    });
    expect((await get("/v1/receipts/req_nope")).statusCode).toBe(404);
    expect((await get("/v1/erasure-requests/req_nope")).statusCode).toBe(404);
  });

  it("an erasure request received long ago is overdue in the list", async () => {
    const receivedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const c = (await post("/v1/erasure-requests", { subject: "user-2", receivedAt }, h.tokens.erasure)).json();
    expect(c.receivedAt).toBe(receivedAt);
    const overdue = (await get("/v1/erasure-requests?overdue=true")).json().requests;
    expect(overdue).toEqual([expect.objectContaining({ id: c.id, overdue: true })]);
    await h.lethe.requests.process(c.id);
  });

  it("POST /v1/events/inference-complete: 202 once stored, idempotent per requestId, then processed", async () => {
    const db = new Database(p.db);
    db.prepare("insert into logs values (1001, 'user-9', 'p', ?)").run(new Date().toISOString());
    db.close();
    const body = { requestId: "inf-1", artifacts: [{ dataset: "logs", key: 1001 }] };
    const r = await post("/v1/events/inference-complete", body, h.tokens.events);
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ status: "pending", duplicate: false });
    const again = await post("/v1/events/inference-complete", body, h.tokens.events);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ id: r.json().id, duplicate: true });
    const received = await h.lethe.state.db
      .selectFrom("ledger")
      .select("seq")
      .where("action", "=", "event_received")
      .execute();
    expect(received).toHaveLength(1);
    await h.lethe.events.process();
    expect(ids(p.db, "logs")).not.toContain(1001);
  });

  it("holds: add (201), list, release, release again (404), unknown dataset (400)", async () => {
    const add = await post("/v1/holds", { dataset: "logs", reason: "litigation #7", until: "2099-01-01T00:00:00Z" });
    expect(add.statusCode).toBe(201);
    const { id } = add.json();
    const list = (await get("/v1/holds")).json().holds;
    expect(list).toEqual([{ id, dataset: "logs", reason: "litigation #7", until: "2099-01-01T00:00:00.000Z" }]);
    const del = await h.app.inject({ method: "DELETE", url: `/v1/holds/${id}`, headers: bearer(h.tokens.admin) });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ id, released: true });
    const again = await h.app.inject({ method: "DELETE", url: `/v1/holds/${id}`, headers: bearer(h.tokens.admin) });
    expect(again.statusCode).toBe(404);
    expect((await post("/v1/holds", { dataset: "nope", reason: "x" })).statusCode).toBe(400);
    const subj = await post("/v1/holds", { subject: "user-3", reason: "audit" });
    expect((await get("/v1/holds")).json().holds[0].subjectHash).toMatch(/^[0-9a-f]{64}$/);
    await h.app.inject({ method: "DELETE", url: `/v1/holds/${subj.json().id}`, headers: bearer(h.tokens.admin) });
  });

  it("GET /v1/audit/verify checks the ledger; POST also records it and /v1/ledger reports the result", async () => {
    const entries = await h.lethe.ledger.size();
    const v = (await get("/v1/audit/verify?full=1")).json();
    expect(v).toMatchObject({ ok: true, entries, full: true, from: 0, read: entries });
    expect((await get("/v1/ledger")).json().verification).toBeNull();
    const p = await h.app.inject({ method: "POST", url: "/v1/audit/verify", headers: bearer(h.tokens.read) });
    expect(p.json()).toMatchObject({ ok: true, entries });
    expect((await get("/v1/ledger")).json().verification).toMatchObject({ ok: true, entries });
    expect((await get("/v1/audit/verify?full=maybe")).statusCode).toBe(400);
  });

  it("GET /openapi.json documents every endpoint of the issue", async () => {
    const doc = (await get("/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/erasure-requests",
      "/v1/erasure-requests/{id}",
      "/v1/events/inference-complete",
      "/v1/plan",
      "/v1/runs",
      "/v1/runs/{id}",
      "/v1/audit",
      "/v1/audit/verify",
      "/v1/holds",
      "/v1/holds/{id}",
      "/v1/receipts/{requestId}",
      "/healthz",
      "/readyz",
      "/metrics",
      "/openapi.json",
    ])
      expect(doc.paths[path], path).toBeDefined();
    expect(
      doc.paths["/v1/erasure-requests"].post.requestBody.content["application/json"].schema.additionalProperties,
    ).toBe(false);
  });

  it("GET /v1/janitor/alerts lists the janitor's findings from the ledger", async () => {
    expect((await get("/v1/janitor/alerts")).json().alerts).toEqual([]);
    const db = new Database(p.db);
    db.prepare("insert into logs values (2001, 'user-8', 'p', ?)").run(
      new Date(Date.now() - 45 * 86_400_000).toISOString(),
    );
    db.close();
    const report = await h.lethe.janitor();
    expect(report.findings.length).toBeGreaterThan(0);
    const alerts = (await get("/v1/janitor/alerts")).json().alerts;
    expect(alerts.length).toBe(report.findings.length);
    expect(alerts[0]).toMatchObject({ action: "janitor_found", dataset: "logs" });
  });

  it("GET /v1/schedule without a scheduler answers with empty lists", async () => {
    expect((await get("/v1/schedule")).json()).toEqual({ instance: null, leader: null, jobs: [], claims: [] });
  });

  it("the safety limit refuses a triggered run with 409 and deletes nothing", async () => {
    const q = makeProject({ logs: 10, expiredEvery: 1, safety: 0.5 });
    const h2 = await harness(q);
    try {
      const r = await h2.app.inject({ method: "POST", url: "/v1/runs", payload: {}, headers: bearer(h2.tokens.admin) });
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe("SAFETY_LIMIT");
      expect(ids(q.db, "logs")).toHaveLength(10);
    } finally {
      await h2.close();
    }
  });
});

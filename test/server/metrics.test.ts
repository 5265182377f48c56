import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness } from "./helpers.js";

function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("/metrics and access logs", () => {
  let h: Harness;
  const metrics = async () => (await h.app.inject({ url: "/metrics", headers: bearer(h.tokens.read) })).body;

  beforeAll(async () => {
    h = await harness(makeProject({ logs: 20, expiredEvery: 2 }));
  });
  afterAll(async () => h.close());

  it("every metric is named lethe_…, in Prometheus text format", async () => {
    const r = await h.app.inject({ url: "/metrics", headers: bearer(h.tokens.read) });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toContain("text/plain");
    const names = r.body
      .split("\n")
      .filter((l) => l.startsWith("# TYPE "))
      .map((l) => l.split(" ")[2]);
    expect(names.length).toBeGreaterThan(20);
    for (const n of names) expect(n).toMatch(/^lethe_/);
    for (const n of [
      "lethe_items_deleted_total",
      "lethe_items_shredded_total",
      "lethe_items_held_total",
      "lethe_items_failed_total",
      "lethe_run_duration_seconds",
      "lethe_retention_lag_seconds",
      "lethe_janitor_findings_total",
      "lethe_erasure_requests",
      "lethe_erasure_requests_overdue",
      "lethe_ledger_entries",
      "lethe_ledger_verification_ok",
      "lethe_event_queue_depth",
    ])
      expect(names).toContain(n);
  });

  it("numbers follow the ledger, the datasets and the queues", async () => {
    let text = await metrics();
    expect(sample(text, "lethe_retention_lag_seconds", '{dataset="logs"}')).toBeGreaterThan(9 * 86_400);
    expect(sample(text, "lethe_dataset_items", '{dataset="logs"}')).toBe(20);
    expect(sample(text, "lethe_ledger_verification_ok")).toBe(-1);

    await h.lethe.holds.add({ subject: "user-2", reason: "litigation" });
    const run = await h.lethe.apply({ dataset: "logs" });
    const d = run.datasets[0]!;
    expect(d.deleted).toBeGreaterThan(0);
    expect(d.held).toBeGreaterThan(0);
    const received = new Date(Date.now() - 40 * 86_400_000);
    await h.lethe.requests.create("user-3", { receivedAt: received });
    await h.lethe.events.enqueue({ requestId: "e1", artifacts: [{ dataset: "logs", key: 1 }] });
    // A GET stores nothing: the recorded verification is a POST (or the scheduled job).
    await h.app.inject({ method: "POST", url: "/v1/audit/verify", headers: bearer(h.tokens.read) });
    // Past the one-second snapshot cache: Date is moved on (only for this scrape), no wall-clock wait.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 1100 });
    try {
      text = await metrics();
    } finally {
      vi.useRealTimers();
    }
    expect(sample(text, "lethe_items_deleted_total", '{dataset="logs"}')).toBe(d.deleted);
    expect(sample(text, "lethe_items_held_total", '{dataset="logs"}')).toBe(d.held);
    expect(sample(text, "lethe_ledger_entries")).toBe(await h.lethe.ledger.size());
    expect(sample(text, "lethe_ledger_verification_ok")).toBe(1);
    expect(sample(text, "lethe_erasure_requests", '{status="received"}')).toBe(1);
    expect(sample(text, "lethe_erasure_requests_overdue")).toBe(1);
    expect(sample(text, "lethe_event_queue_depth")).toBe(1);
  });

  it("access logs name the route pattern and never the subject in the URL", async () => {
    const secret = "jane.doe-4711";
    await h.app.inject({ url: `/v1/audit?subject=${secret}`, headers: bearer(h.tokens.read) });
    await h.app.inject({ url: `/v1/erasure-requests/${secret}`, headers: bearer(h.tokens.read) });
    await h.app.inject({ url: `/v1/nothing/${secret}` });
    await h.app.inject({
      method: "POST",
      url: "/v1/erasure-requests",
      payload: { subject: secret },
      headers: bearer(h.tokens.erasure),
    });
    const all = h.logs.join("\n");
    expect(all).not.toContain(secret);
    expect(all).not.toContain(h.tokens.erasure);
    const lines = h.logs.map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ route: "/v1/audit", status: 200, method: "GET" }));
    expect(lines).toContainEqual(expect.objectContaining({ route: "/v1/erasure-requests/:id", status: 404 }));
    expect(lines).toContainEqual(expect.objectContaining({ route: "/v1/erasure-requests", status: 202 }));
  });
});

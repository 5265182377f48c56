import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { backoffMs, deliverDue, outboxCounts } from "../../src/notify/deliver.js";
import { notifyDeadlines, notifyStoreDown } from "../../src/notify/producers.js";
import { makeProject } from "../helpers/project.js";
import { receiver } from "./receiver.js";

const SECRET = "whsec-test-0123456789";
process.env.LETHE_TEST_HOOK_SECRET = SECRET;
const DAY = 86_400_000;

const open: Lethe[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
});

function hooksYaml(url: string, extra = "") {
  return `notifications:
  webhooks:
    - { url: "${url}", secret: "env:LETHE_TEST_HOOK_SECRET" }
  retryMin: 1s
  retryMax: 8s
  maxAttempts: 4
${extra}`;
}

async function project(url: string, extra = "", safety?: number) {
  const p = makeProject({ extraYaml: hooksYaml(url, extra), safety });
  const l = await openLethe(join(p.dir, "lethe.yaml"), { logger: { warn: () => undefined, info: () => undefined } });
  open.push(l);
  return { p, l };
}

const deliver = (l: Lethe, now = new Date()) =>
  deliverDue(l.state, { policy: l.config.notifications, baseDir: l.config.baseDir, now: () => now });

describe("notifications: outbox → signed webhook", () => {
  it("an erasure request's received and completed events arrive signed, with request id and subject HMAC only", async () => {
    const rx = await receiver(SECRET);
    const { l } = await project(rx.url);
    const r = await l.requests.create("user-3", { reason: "ticket 42" });
    await l.requests.process(r.id);
    const sent = await deliver(l);
    expect(sent.map((a) => a.outcome)).toEqual(["delivered", "delivered"]);
    expect(rx.badSignatures).toEqual([]);
    expect(rx.events().sort()).toEqual(["erasure.completed", "erasure.received"]);
    const subjectHash = l.ledger.subjectHash("user-3");
    for (const g of rx.got) {
      expect(g.body).toMatchObject({ source: "lethe", data: { requestId: r.id, subjectHash } });
      expect(g.headers["x-lethe-event"]).toBe(g.body.event);
      expect(g.headers["x-lethe-delivery"]).toBe(g.body.id);
      expect(g.raw).not.toContain("user-3");
      expect(g.raw).not.toContain("ticket 42");
    }
    expect(await outboxCounts(l.state)).toEqual(new Map([["delivered", 2]]));
    await rx.down();
  });

  it("a receiver that is down for a while gets everything once it is back: retries with exponential backoff", async () => {
    const rx = await receiver(SECRET);
    const { l } = await project(rx.url);
    await rx.down();
    await l.requests.create("user-1");
    const t0 = new Date();
    const first = await deliver(l, t0);
    expect(first).toMatchObject([{ ok: false, outcome: "pending", error: "ECONNREFUSED" }]);
    // Not due again before the backoff has passed.
    expect(await deliver(l, new Date(t0.getTime() + 999))).toEqual([]);
    expect(await deliver(l, new Date(t0.getTime() + 1000))).toMatchObject([{ ok: false, outcome: "pending" }]);
    expect(await deliver(l, new Date(t0.getTime() + 2999))).toEqual([]);
    await rx.up();
    expect(await deliver(l, new Date(t0.getTime() + 3000))).toMatchObject([{ ok: true, outcome: "delivered" }]);
    expect(rx.events()).toEqual(["erasure.received"]);
    const row = await l.state.db.selectFrom("notify_outbox").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "delivered", attempts: 3, last_error: null });
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, l.config.notifications))).toEqual([1000, 2000, 4000, 8000, 8000]);
    await rx.down();
  });

  it("gives up after maxAttempts (dead letter, counted for /metrics) and a restart loses nothing queued", async () => {
    const rx = await receiver(SECRET, { status: 500 });
    const { p, l } = await project(rx.url);
    await l.requests.create("user-2");
    let t = Date.now();
    for (let i = 0; i < 4; i++) {
      const a = await deliver(l, new Date(t));
      expect(a).toHaveLength(1);
      expect(a[0]?.error).toBe("HTTP 500");
      t += 10_000;
    }
    expect(await outboxCounts(l.state)).toEqual(new Map([["dead", 1]]));
    expect(await deliver(l, new Date(t + DAY))).toEqual([]);
    // Queued by one process, delivered by the next.
    await l.requests.create("user-4");
    await l.close();
    open.splice(open.indexOf(l), 1);
    await rx.down();
    const ok = await receiver(SECRET);
    const again = await openLethe(join(p.dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    open.push(again);
    await again.state.db.updateTable("notify_outbox").set({ target: ok.url }).where("status", "=", "pending").execute();
    expect(await deliver(again)).toMatchObject([{ ok: true }]);
    expect(ok.events()).toEqual(["erasure.received"]);
    await ok.down();
  });

  it("a webhook gets only the events it subscribed to", async () => {
    const rx = await receiver(SECRET);
    const p = makeProject({
      extraYaml: `notifications:
  webhooks:
    - { url: "${rx.url}", secret: "env:LETHE_TEST_HOOK_SECRET", events: [erasure.completed] }
`,
    });
    const l = await openLethe(join(p.dir, "lethe.yaml"));
    open.push(l);
    const r = await l.requests.create("user-1");
    await l.requests.process(r.id);
    await deliver(l);
    expect(rx.events()).toEqual(["erasure.completed"]);
    await rx.down();
  });
});

describe("notifications: producers", () => {
  it("erasure.due_soon within warnBefore and erasure.overdue after the deadline, once per due date", async () => {
    const rx = await receiver(SECRET);
    const { l } = await project(rx.url, "  warnBefore: 3d\nerasure: { deadline: 30d }\n");
    const soon = await l.requests.create("user-1", { receivedAt: new Date(Date.now() - 28 * DAY) });
    const late = await l.requests.create("user-2", { receivedAt: new Date(Date.now() - 31 * DAY) });
    await l.requests.create("user-3"); // due in 30 days: nothing yet
    const now = new Date();
    expect(await notifyDeadlines(l, now)).toBe(2);
    expect(await notifyDeadlines(l, now)).toBe(0);
    await deliver(l);
    const byEvent = new Map(rx.got.map((g) => [g.body.event, g.body.data.requestId]));
    expect(byEvent.get("erasure.due_soon")).toBe(soon.id);
    expect(byEvent.get("erasure.overdue")).toBe(late.id);
    // Past its deadline, the due-soon request is now overdue: one more, and an extension re-arms it.
    expect(await notifyDeadlines(l, new Date(now.getTime() + 3 * DAY))).toBe(1);
    await l.requests.extend(late.id, "30d", "court order");
    // 28 days on: the extended request is due soon again (re-armed), and so is the one received today.
    expect(await notifyDeadlines(l, new Date(now.getTime() + 28 * DAY))).toBe(2);
    await rx.down();
  });

  it("run.refused names the datasets the safety limit stopped; store.down once per outage", async () => {
    const rx = await receiver(SECRET);
    const { l } = await project(rx.url, "", 0.1);
    await expect(l.apply()).rejects.toMatchObject({ code: "SAFETY_LIMIT" });
    const since = new Date();
    expect(await notifyStoreDown(l, "blobs", { since, error: "ECONNREFUSED" })).toBe(1);
    expect(await notifyStoreDown(l, "blobs", { since, error: "ECONNREFUSED" })).toBe(0);
    await deliver(l);
    const refused = rx.got.find((g) => g.body.event === "run.refused");
    expect(refused?.body.data).toMatchObject({ error: "SAFETY_LIMIT", refused: [{ dataset: "logs" }] });
    expect(rx.got.find((g) => g.body.event === "store.down")?.body.data).toEqual({
      store: "blobs",
      since: since.toISOString(),
      error: "ECONNREFUSED",
    });
    await rx.down();
  });

  it("janitor findings go to notification webhooks and the legacy alerts.webhook through the same outbox", async () => {
    const rx = await receiver(SECRET);
    const legacy: string[] = [];
    const { createServer } = await import("node:http");
    const srv = createServer((req, res) => {
      let b = "";
      req.on("data", (c) => {
        b += c;
      });
      req.on("end", () => {
        legacy.push(b);
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    const { l } = await project(rx.url, `alerts: { webhook: "http://127.0.0.1:${port}/alerts" }\n`);
    const report = await l.janitor({ graceSeconds: 0 });
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.alert.webhook).toMatchObject({ sent: true });
    expect(legacy).toHaveLength(1);
    expect(JSON.parse(legacy[0] as string)).toMatchObject({ kind: "janitor", runId: report.runId });
    await deliver(l);
    expect(rx.got.find((g) => g.body.event === "janitor.findings")?.body.data).toMatchObject({
      runId: report.runId,
      counts: { expired_item: expect.any(Number) },
    });
    const rows = await l.state.db.selectFrom("notify_outbox").select(["event", "status"]).execute();
    expect(rows.map((r) => `${r.event}:${r.status}`).sort()).toEqual([
      "janitor.alert:delivered",
      "janitor.findings:delivered",
    ]);
    srv.close();
    srv.closeAllConnections();
    await rx.down();
  });
});

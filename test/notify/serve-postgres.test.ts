import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { deliverDue, outboxCounts } from "../../src/notify/deliver.js";
import { notifyDeadlines } from "../../src/notify/producers.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { until } from "../helpers/wait.js";
import { api, createToken, startServe, stateQuery } from "../server/serve-process.js";
import { receiver } from "./receiver.js";

const SECRET = "whsec-serve-test";

function attemptsSoFar(dir: string): number {
  const rows = stateQuery<{ attempts: number }>(
    dir,
    "select attempts from notify_outbox where event = 'erasure.received'",
  );
  return rows[0]?.attempts ?? 0;
}
const quiet = { logger: { warn: () => undefined, info: () => undefined } };

describe("notifications in lethe serve", () => {
  it("delivers what the CLI queued before serve started, once a receiver that was down comes back", async () => {
    const rx = await receiver(SECRET);
    await rx.down();
    const p = makeProject({
      extraYaml: `notifications:
  webhooks: [{ url: "${rx.url}", secret: "env:LETHE_TEST_SERVE_HOOK" }]
  retryMin: 200ms
  retryMax: 400ms
`,
    });
    const env = { LETHE_TEST_SERVE_HOOK: SECRET };
    // Queued by a CLI process that exits: the outbox is in the state, not in memory.
    const created = await letheIn(["requests", "create", "user-2", "--json"], p.dir, env);
    expect(created.code).toBe(0);
    const token = await createToken(p.dir, "read");
    const s = await startServe(p.dir, env);
    try {
      // serve tries, fails (receiver down) and keeps retrying with backoff.
      await until(() => attemptsSoFar(p.dir) >= 2, 20_000, 50, "failed delivery attempts");
      await rx.up();
      await until(() => rx.events().includes("erasure.completed"), 20_000, 50, "erasure.completed delivered");
      await until(() => rx.events().includes("erasure.received"), 20_000, 50, "erasure.received delivered");
      expect(rx.badSignatures).toEqual([]);
      const requestId = (created.json as { id: string }).id;
      for (const g of rx.got) expect(g.body.data.requestId).toBe(requestId);
      await until(
        async () => /lethe_notifications\{status="delivered"\} 2/.test((await api(s.base, token, "/metrics")).text),
        10_000,
        50,
        "metrics",
      );
      expect((await api(s.base, token, "/metrics")).text).toMatch(/lethe_notifications\{status="dead"\} 0/);
    } finally {
      s.signal("SIGTERM");
      await s.exited;
      await rx.down();
    }
  });

  it("serve refuses to start when a webhook's secret reference cannot be resolved", async () => {
    const p = makeProject({
      extraYaml: `notifications:\n  webhooks: [{ url: "http://127.0.0.1:9/x", secret: "env:LETHE_TEST_UNSET_HOOK" }]\n`,
    });
    const r = await letheIn(["serve", "--port", "0"], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("notifications.webhooks.0.secret: secret env:LETHE_TEST_UNSET_HOOK");
  });
});

describe("notifications on PostgreSQL state", () => {
  it("the outbox, its dedupe and delivery work the same (state given as an env: reference)", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const rx = await receiver(SECRET);
    process.env.LETHE_TEST_NOTIFY_PG = db.url;
    process.env.LETHE_TEST_NOTIFY_HOOK = SECRET;
    const p = makeProject({
      extraYaml: `notifications:\n  webhooks: [{ url: "${rx.url}", secret: "env:LETHE_TEST_NOTIFY_HOOK" }]\n`,
    });
    const cfg = join(p.dir, "lethe.yaml");
    const { readFileSync, writeFileSync } = await import("node:fs");
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace("state: ./.lethe", "state: env:LETHE_TEST_NOTIFY_PG"));
    const l = await openLethe(cfg, quiet);
    try {
      expect(l.config.state.kind).toBe("postgres");
      const r = await l.requests.create("user-1", { receivedAt: new Date(Date.now() - 31 * 86_400_000) });
      expect(await notifyDeadlines(l, new Date())).toBe(1);
      expect(await notifyDeadlines(l, new Date())).toBe(0);
      const sent = await deliverDue(l.state, { policy: l.config.notifications, baseDir: l.config.baseDir });
      expect(sent.every((a) => a.ok)).toBe(true);
      expect(rx.events().sort()).toEqual(["erasure.overdue", "erasure.received"]);
      expect(rx.got[0]?.body.data.requestId).toBe(r.id);
      expect(await outboxCounts(l.state)).toEqual(new Map([["delivered", 2]]));
    } finally {
      await l.close();
      await rx.down();
      delete process.env.LETHE_TEST_NOTIFY_PG;
      await db.drop();
    }
  });
});

import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { tempDir } from "../helpers/cli.js";
import { createTestRedisPrefix, requireService } from "../helpers/services.js";
import { startTcpFaultProxy } from "../helpers/tcp-fault-proxy.js";
import { until } from "../helpers/wait.js";
import { QUIET, redisProject, seedRedisKey } from "./redis-helpers.js";

const KEYS = 20;
const DAY = 86_400;

/** Polls `probe` until it resolves (the shared `until`; a throw means "not yet"). */
function eventually<T>(probe: () => Promise<T>, ms = 30_000): Promise<T> {
  return until(
    () =>
      probe().then(
        (v) => ({ v }),
        () => undefined,
      ),
    ms,
  ).then((r) => r.v);
}

describe("a TTL script that runs while its reply is lost (Redis)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("is reconciled at the next start: every key the script shortened gets exactly one ttl_set entry", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    const keys = Array.from({ length: KEYS }, (_, i) => `${r.prefix}p:u${i % 4}:${i}`);
    for (const [i, k] of keys.entries()) await seedRedisKey(r.client, k, i, `body ${i}`);
    const real = new URL(r.url);
    const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
    cleanup.push(() => proxy.close());
    const yaml = redisProject(
      `redis://127.0.0.1:${proxy.port}`,
      `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d, batchSize: 5 }\n`,
      "safety: { maxFraction: 1 }\n",
    );
    // The first TTL script runs on the server, then the connection dies and the server looks down:
    // the process cannot ask what happened, so the batch's intent must stay open.
    const first = await openLethe(yaml, QUIET);
    proxy.loseReplyTo("pexpire", true);
    const outcome = await first.apply().catch((err: Error) => err);
    await first.close();
    expect(proxy.lost).toBe(1);
    const ttls = async () => Promise.all(keys.map((k) => r.client.pTTL(k)));
    const shortened = (await ttls()).filter((t) => t > 0).length;
    expect(shortened).toBe(5); // exactly the lost batch ran
    if (!(outcome instanceof Error)) expect(outcome.datasets[0]?.ttlSet ?? 0).toBe(0);

    proxy.down = false;
    const second = await openLethe(yaml, QUIET);
    cleanup.push(() => second.close());
    const res = await second.apply();
    expect(res.datasets[0]).toMatchObject({ ttlSet: KEYS - 5, failed: 0 });
    for (const t of await ttls()) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(DAY * 1000);
    }
    const set = (await second.audit.log({ dataset: "prompts" })).filter((e) => e.action === "ttl_set");
    expect(set).toHaveLength(KEYS);
    expect(new Set(set.map((e) => e.keyHash)).size).toBe(KEYS);
    expect(set.filter((e) => e.reason?.includes("reconciled"))).toHaveLength(5);
    expect((await second.audit.verify()).ok).toBe(true);
  });

  it("a connection lost while serving heals by itself once Redis is back: no restart needed", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    await r.client.set(`${r.prefix}p:u1:1`, "x");
    const real = new URL(r.url);
    const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
    cleanup.push(() => proxy.close());
    const l = await openLethe(
      {
        version: 1,
        state: join(tempDir("lethe-redis-heal-"), "state"),
        stores: { cache: { kind: "redis", url: `redis://127.0.0.1:${proxy.port}` } },
        datasets: { prompts: { store: "cache", pattern: `${r.prefix}p:{subject}:*`, retention: "1d" } },
      },
      QUIET,
    );
    cleanup.push(() => l.close());
    expect((await l.plan({ record: false })).datasets[0]).toMatchObject({ total: 1, expired: 1 });
    // The connection dies and Redis stays away for more reconnect attempts than opening allows.
    proxy.loseReplyTo("scan", true);
    await expect(l.plan({ record: false })).rejects.toThrow(/STORE_ERROR|stores\.cache/);
    await eventually(async () => {
      if (proxy.refused < 5) throw new Error("still reconnecting");
    });
    proxy.down = false;
    const back = await eventually(() => l.plan({ record: false }));
    expect(back.datasets[0]).toMatchObject({ total: 1, expired: 1 });
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { buildApp } from "../../src/server/app.js";
import { createTestRedisPrefix, requireService } from "../helpers/services.js";
import { bearer, quiet } from "../server/helpers.js";
import { redisProject } from "./redis-helpers.js";

describe("/metrics for redis datasets", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("lethe_items_ttl_set_total counts the keys a run gave a TTL, from the ledger", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    for (let i = 0; i < 3; i++) await r.client.set(`${r.prefix}p:u${i}:1`, "x");
    await r.client.set(`${r.prefix}p:u9:1`, "fresh", { EX: 60 });
    const yaml = redisProject(
      r.url,
      `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d }\n`,
      "safety: { maxFraction: 1 }\n",
    );
    const lethe = await openLethe(yaml, { logger: quiet });
    const app = await buildApp(lethe, {
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    cleanup.push(async () => {
      await app.close();
      await lethe.close();
    });
    const token = (await app.lethe.tokens.create(["read"])).token;
    expect((await lethe.apply()).datasets[0]?.ttlSet).toBe(3);
    const text = (await app.inject({ url: "/metrics", headers: bearer(token) })).body;
    expect(text).toContain('lethe_items_ttl_set_total{dataset="prompts"} 3');
    expect(text).toContain('lethe_dataset_items{dataset="prompts"} 4');
  });
});

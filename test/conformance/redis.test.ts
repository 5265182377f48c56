import type { Item } from "../../src/core/types.js";
import { createRedisStore } from "../../src/stores/redis/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestRedisPrefix } from "../helpers/services.js";
import { seedRedisKey } from "../redis/redis-helpers.js";
import { type ConformanceFixture, runStoreConformance } from "./store-conformance.js";

const DAY = 86_400;

/**
 * Items are keys `<prefix>prompt:<subject>:<name>` of every value type in
 * turn; "expired" ones exceed the one-day retention (no TTL, or ten days),
 * fresh ones have an hour left. Bystanders outside the pattern have no TTL
 * and must survive everything.
 */
async function redisFixture(): Promise<ConformanceFixture> {
  const r = await createTestRedisPrefix();
  const store = await createRedisStore({ name: "cache", kind: "redis", url: r.url });
  const ds = datasetConfig({
    name: "prompts",
    store: "cache",
    storeKind: "redis",
    pattern: `${r.prefix}prompt:{subject}:*`,
    action: "expire",
    retention: { kind: "duration", seconds: DAY },
  });
  const issues = collectIssues();
  const dataset = await store.dataset(ds, issues);
  if (!dataset || issues.errors.length > 0) throw new Error(`redis dataset did not open: ${issues.errors.join("; ")}`);
  const bystanders = [`${r.prefix}other:alice:a1`, `${r.prefix}prompt:alice`];
  const keys = new Map<string, string>();
  const lastSegment = (key: string) => key.split(":").pop() ?? key;
  return {
    store,
    dataset,
    async seed(items) {
      for (const b of bystanders) await r.client.set(b, "bystander");
      for (const [i, it] of items.entries()) {
        const key = `${r.prefix}prompt:${it.subject ?? "none"}:${it.name}`;
        keys.set(it.name, key);
        const ttl = it.expired ? (i % 2 === 0 ? undefined : 10 * DAY) : 3600;
        await seedRedisKey(r.client, key, i, `payload-${it.name}`, ttl);
      }
      return new Date();
    },
    async present() {
      const out: string[] = [];
      for await (const page of r.client.scanIterator({ MATCH: `${r.prefix}prompt:*:*`, COUNT: 100 }))
        out.push(...page.map(lastSegment));
      return out;
    },
    nameOf: (item: Item) => lastSegment(String(item.key)),
    async removeBehindBack(name) {
      await r.client.unlink(keys.get(name) as string);
    },
    hooks: { foreignKeys: [...bystanders, "prompt:alice:a1", 42] },
    async close() {
      try {
        for (const b of bystanders)
          if ((await r.client.exists(b)) !== 1 || (await r.client.pTTL(b)) !== -1)
            throw new Error(`bystander ${b} was touched`);
      } finally {
        await store.close();
        await r.drop();
      }
    },
  };
}

// createTestRedisPrefix throws when LETHE_TEST_REDIS_URL is unset: a missing server fails, never skips.
runStoreConformance("redis", redisFixture, {
  capabilities: ["ownsKey", "subjectOf", "expire", "discover"],
  expiry: "lifetime",
});

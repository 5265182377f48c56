import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { tempDir } from "../helpers/cli.js";
import { createTestRedisPrefix, requireService } from "../helpers/services.js";

/** Options for `openLethe` that keep a test's output free of lethe's log lines. */
export const QUIET = { logger: { warn: () => undefined, info: () => undefined } };

type Client = Awaited<ReturnType<typeof createTestRedisPrefix>>["client"];

/** The value types a Redis dataset must handle alike, in the order `seedRedisKey` cycles through them. */
export const REDIS_TYPES = ["string", "hash", "list", "set", "stream", "zset"] as const;

/**
 * Writes `key` as the `n`-th value type (mod 6) holding `text`, with a TTL
 * in seconds or none.
 *
 * @example
 * await seedRedisKey(client, "p:u1:a", 1, "hello", 3600); // a hash with a one-hour TTL
 */
export async function seedRedisKey(client: Client, key: string, n: number, text: string, ttl?: number): Promise<void> {
  const type = REDIS_TYPES[n % REDIS_TYPES.length];
  if (type === "string") await client.set(key, text);
  else if (type === "hash") await client.hSet(key, { body: text, n: String(n) });
  else if (type === "list") await client.rPush(key, [text, "second"]);
  else if (type === "set") await client.sAdd(key, [text, "member"]);
  else if (type === "stream") await client.xAdd(key, "*", { body: text });
  else await client.zAdd(key, [{ score: n, value: text }]);
  if (ttl !== undefined) await client.expire(key, ttl);
}

/**
 * Writes a `lethe.yaml` with one redis store `cache` at `url` (state in the same temp folder) and the given
 * datasets block (indented YAML under `datasets:`); returns the file's path.
 *
 * @example
 * const yaml = redisProject(r.url, `  prompts: { store: cache, pattern: "p:{subject}:*", retention: 1d }\n`);
 */
export function redisProject(url: string, datasets: string, head = ""): string {
  const dir = tempDir("lethe-redis-");
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1\nstate: ./.lethe\n${head}stores:\n  cache: { kind: redis, url: "${url}" }\ndatasets:\n${datasets}`,
  );
  return join(dir, "lethe.yaml");
}

/** A test key prefix on the shared Redis server: its URL, the prefix and a connected client. */
export type RedisPrefix = Pick<Awaited<ReturnType<typeof createTestRedisPrefix>>, "url" | "prefix" | "client">;

/**
 * The per-test Redis fixture of a describe block: before each test a fresh key prefix (a missing Redis fails
 * the test), after it every lethe the test opened through `open` closed and the prefix's keys dropped.
 *
 * @example
 * const r = redisPerTest();
 * it("…", async () => {
 *   await r.client.set(`${r.prefix}p:bob:1`, "v");
 *   const l = await r.open(redisProject(r.url, `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d }\n`));
 * });
 */
export function redisPerTest(): RedisPrefix & { open(config: Parameters<typeof openLethe>[0]): Promise<Lethe> } {
  let current: Awaited<ReturnType<typeof createTestRedisPrefix>> | undefined;
  const opened: Lethe[] = [];
  beforeEach(async (ctx) => {
    requireService(ctx, "redis");
    current = await createTestRedisPrefix();
  });
  afterEach(async () => {
    try {
      for (const l of opened.splice(0)) await l.close();
    } finally {
      await current?.drop();
      current = undefined;
    }
  });
  const now = () => {
    if (!current) throw new Error("redisPerTest: the prefix exists only inside a test");
    return current;
  };
  return {
    get url() {
      return now().url;
    },
    get prefix() {
      return now().prefix;
    },
    get client() {
      return now().client;
    },
    async open(config) {
      const l = await openLethe(config, QUIET);
      opened.push(l);
      return l;
    },
  };
}

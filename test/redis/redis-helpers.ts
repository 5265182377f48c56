import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/cli.js";
import type { createTestRedisPrefix } from "../helpers/services.js";

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

import type { DatasetConfig, StoreConfig } from "../../config/types.js";
import type { Issues, StoreDriver } from "../../core/types.js";
import { redisClient } from "./client.js";
import { discoverKeys } from "./discover.js";
import { RedisDataset } from "./redis-dataset.js";

/**
 * The `redis` store: one Redis 7 database (`redis://host:port/db`, or
 * `rediss://` for TLS) whose datasets are key patterns. Opening it connects
 * and checks the server version before anything is touched. Loaded only when
 * a redis store is configured (src/stores/registry.ts).
 *
 * @example
 * const store = await createRedisStore({ name: "cache", kind: "redis", url: "redis://127.0.0.1:6379/0" });
 */
export async function createRedisStore(config: StoreConfig): Promise<StoreDriver> {
  if (config.kind !== "redis") throw new Error("createRedisStore needs a redis store");
  const client = await redisClient(config);
  return {
    config,
    async dataset(ds: DatasetConfig, issues: Issues) {
      if (ds.retention.kind === "duration" && ds.retention.seconds < 1)
        issues.error(`datasets.${ds.name}.retention`, "a Redis TTL needs at least 1s");
      return new RedisDataset(ds, client, config.name);
    },
    discover: (req) => discoverKeys(client, req),
    async close() {
      client.destroy();
    },
  };
}

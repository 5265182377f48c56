import type { DriverRegistry } from "../core/types.js";
import { createFsStore } from "./fs/driver.js";
import { createSqlStore } from "./sql/driver.js";

/**
 * Store kind → driver factory. The core receives this map and never imports
 * a driver itself; adding a driver means adding a line here.
 */
export const defaultDrivers: DriverRegistry = {
  sql: createSqlStore,
  fs: createFsStore,
  // Imported on demand: the AWS SDK loads only when an s3 store is configured.
  s3: async (config) => (await import("./s3/driver.js")).createS3Store(config),
  // Likewise the Redis client: a lethe without a redis store never loads it.
  redis: async (config) => (await import("./redis/driver.js")).createRedisStore(config),
};

import { LetheError } from "../core/errors.js";
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
  s3: async (config) => {
    throw new LetheError("CONFIG_INVALID", `stores.${config.name}: the s3 driver is not available in this build`);
  },
};

/**
 * lethe: makes sensitive AI data disappear on time, and proves it.
 *
 * @example
 * import { openLethe } from "lethe";
 * const lethe = await openLethe("lethe.yaml");
 * await lethe.apply();
 */

export { parseDuration } from "./config/duration.js";
export { loadConfigFile, parseConfig } from "./config/load.js";
export type { DatasetConfig, LetheConfig, StoreConfig } from "./config/types.js";
export { ConfigError, ERROR_CODES, type ErrorCode, LetheError } from "./core/errors.js";
export type { Plan, PlanDataset } from "./core/planner.js";
export type { ApplyDataset, ApplyResult } from "./core/retention.js";
export type { DatasetDriver, DriverRegistry, Item, StoreDriver } from "./core/types.js";
export { shredFile } from "./crypto/shred.js";
export type { InclusionProof } from "./ledger/proof.js";
export { verifyInclusion } from "./ledger/proof.js";
export type { Checkpoint } from "./ledger/signing.js";
export { verifyCheckpoint } from "./ledger/signing.js";
export type { LedgerEntry } from "./ledger/types.js";
export { Lethe, type LetheLogger, type OpenOptions, openLethe } from "./lethe.js";

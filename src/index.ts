/**
 * lethe: makes sensitive AI data disappear on time, and proves it.
 *
 * @example
 * import { openLethe } from "lethe";
 * const lethe = await openLethe("lethe.yaml");
 * await lethe.apply();
 */
export { openLethe, Lethe, type OpenOptions, type LetheLogger } from "./lethe.js";
export { LetheError, ConfigError, ERROR_CODES, type ErrorCode } from "./core/errors.js";
export { parseConfig, loadConfigFile } from "./config/load.js";
export { parseDuration } from "./config/duration.js";
export type { LetheConfig, DatasetConfig, StoreConfig } from "./config/types.js";
export type { Plan, PlanDataset } from "./core/planner.js";
export type { ApplyResult, ApplyDataset } from "./core/retention.js";
export type { DatasetDriver, StoreDriver, Item, DriverRegistry } from "./core/types.js";
export type { LedgerEntry } from "./ledger/types.js";
export type { Checkpoint } from "./ledger/signing.js";
export type { InclusionProof } from "./ledger/proof.js";
export { verifyInclusion } from "./ledger/proof.js";
export { verifyCheckpoint } from "./ledger/signing.js";
export { shredFile } from "./crypto/shred.js";

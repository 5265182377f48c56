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
export type { DiscoverOptions, DiscoverResult, DiscoverStore, UnmappedColumn } from "./core/discover.js";
export type {
  EraseDatasetResult,
  EraseOptions,
  EraseResult,
  HoldHit,
  HookOutcome,
  SingleErasure,
  SubjectErasedEvent,
  SubjectErasedHook,
  SubjectErasure,
} from "./core/erasure-types.js";
export { ConfigError, ERROR_CODES, type ErrorCode, LetheError } from "./core/errors.js";
export type { FindingKind, JanitorFinding, JanitorOptions, JanitorReport } from "./core/janitor.js";
export type { DerivedArtifacts, LineageEntry } from "./core/lineage.js";
export type { Plan, PlanDataset } from "./core/planner.js";
export {
  canonicalJson,
  type ReceiptBody,
  type ReceiptVerification,
  receiptFileText,
  type SignedReceipt,
  verifyReceiptText,
} from "./core/receipts.js";
export type { ErasureRequests, ProcessedRequest } from "./core/requests/requests.js";
export {
  type CreateRequestOptions,
  type ListRequestOptions,
  REQUEST_STATUSES,
  type RequestCreated,
  type RequestDataset,
  type RequestDetail,
  type RequestStatus,
  type RequestSummary,
} from "./core/requests/types.js";
export type { ApplyDataset, ApplyResult } from "./core/retention.js";
export type {
  DatasetDriver,
  DriverRegistry,
  Item,
  Partition,
  PartitionDriver,
  PurgeMode,
  PurgeReport,
  StoreDriver,
} from "./core/types.js";
export { DEFAULT_MAX_USES, type DestroyResult, KeyRing, type KeyRingOptions } from "./crypto/keyring.js";
export { type ShredOptions, shredFile, shredFileAsync } from "./crypto/shred.js";
export type { ShreddedFile } from "./executor/shred-paths.js";
export type { MasterRotation } from "./keys/rotate-master.js";
export type { InclusionProof } from "./ledger/proof.js";
export { verifyInclusion } from "./ledger/proof.js";
export type { SigningRotation } from "./ledger/rotate-signing.js";
export type { Checkpoint } from "./ledger/signing.js";
export { publicKeyId, verifyCheckpoint } from "./ledger/signing.js";
export { type SigningKeyRecord, SigningKeySet, splitPems } from "./ledger/signing-keys.js";
export type { LedgerEntry } from "./ledger/types.js";
export { Lethe, type LetheLogger, type OpenOptions, openLethe } from "./lethe.js";
export { type Clock, ManualClock, systemClock } from "./scheduler/clock.js";
export { type CronSchedule, cronSchedule } from "./scheduler/cron.js";
export type { Job, JobOutcome, JobRunContext } from "./scheduler/job.js";
export { type DueDecision, decideDue, type Missed } from "./scheduler/misfire.js";
export { Scheduler, type SchedulerOptions } from "./scheduler/scheduler.js";
export { type AppOptions, buildApp } from "./server/app.js";
export { HTTP_STATUS } from "./server/http-status.js";
export { SCOPES, type Scope } from "./server/scopes.js";
export { LetheService, type ServiceOptions } from "./server/service.js";
export { type CreatedToken, type TokenInfo, TokenStore } from "./server/tokens.js";
export type { BucketSyncResult, LifecycleSyncResult } from "./stores/s3/lifecycle-sync.js";
export type { EnqueueResult, EventRecord, EventResult, EventStatus } from "./transient/event-queue.js";
export { type Artifact, type InferenceComplete, inferenceCompleteSchema } from "./transient/event-schema.js";
export type { CompleteResult, Events, EventsOptions, ProcessSummary } from "./transient/events.js";
export { defaultTransientRoot } from "./transient/root.js";
export type { Workspace, WorkspaceData } from "./transient/workspace.js";
export type { TransientFn, TransientOptions } from "./transient/workspace-manager.js";

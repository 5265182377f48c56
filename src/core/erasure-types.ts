import type { UnavailableDataset } from "./data-map.js";
import type { ErrorCode } from "./errors.js";
import type { LineageEntry } from "./lineage.js";
import type { PurgeReport } from "./types.js";

/** One dataset's part of one subject's erasure (DESIGN.md `erase` JSON, plus extra fields). */
export interface EraseDatasetResult {
  name: string;
  /** Items of the subject seen (deleted + held + failed). */
  found: number;
  deleted: number;
  held: number;
  filesRemoved: number;
  failed: number;
  /** Of `failed`: row-linked files that could not be removed (their rows are gone). */
  filesFailed: number;
  /** Items of the subject still present after the erasure that no hold explains. */
  residue: number;
  /** Failed items: integer keys in clear, anything else as given by the store (operator output only). */
  /** `code`: one of lethe's error codes when the failure has one (OUTCOME_UNKNOWN: the reply to a delete was lost). */
  failures: { key: string | number; reason: string; code?: ErrorCode }[];
  /** Up to 20 keys of residual items (operator output only, never stored). */
  residueKeys: (string | number)[];
}

/** A hold that kept some of the subject's items back, with the reason recorded when it was added. */
export interface HoldHit {
  id: string;
  reason: string;
  dataset: string;
  held: number;
}

/** What an `onSubjectErased` hook reported doing (e.g. `{ action: "key_destroyed" }`). */
export interface HookOutcome {
  action: string;
  detail?: string;
}

export interface SubjectErasure {
  subject: string;
  subjectHash: string;
  dryRun: boolean;
  datasets: EraseDatasetResult[];
  holds: HoldHit[];
  held: number;
  failed: number;
  residue: number;
  /** Derived artifacts (models) trained on datasets that held this subject's data. */
  lineage: LineageEntry[];
  /** What the onSubjectErased hooks did; skipped while a hold keeps anything of the subject. */
  actions: HookOutcome[];
}

export interface EraseResult {
  /** The run that recorded every deletion (absent for a dry run). */
  runId?: string;
  dryRun: boolean;
  subjects: SubjectErasure[];
  /** Per store: what was done about erased bytes left in its files (absent for a dry run). */
  scrub?: PurgeReport[];
  /** Subject datasets not reached because their store is down (the run is then `partial`). */
  unavailable?: UnavailableDataset[];
}

/** `lethe.erase("one-subject")`: that subject's result with the run's id and scrub reports. */
export type SingleErasure = SubjectErasure & Pick<EraseResult, "runId" | "scrub">;

export interface SubjectErasedEvent {
  /** The raw subject id: use it, never store or log it. */
  subject: string;
  subjectHash: string;
  runId: string;
  requestId?: string;
}

/**
 * Called once per subject after its items were erased and nothing of it was
 * held back, e.g. to destroy the subject's crypto-shredding key. A hook that
 * throws is recorded as a failure of the erasure (exit 1). It may return a
 * {@link HookOutcome} to be listed in the erase output and the receipt.
 *
 * @example
 * lethe.onSubjectErased.push(async (e) => { await keyring.destroy(e.subject); return { action: "key_destroyed" }; });
 */
export type SubjectErasedHook = (event: SubjectErasedEvent) => Promise<unknown>;

export interface EraseOptions {
  /** Without it, a dry run: counts only, one summary ledger entry. */
  yes?: boolean;
  /** Why (recorded on the run's ledger entries; the per-item reason is always `erasure`). */
  reason?: string;
  /** Datasets to erase from (default: every dataset with a subject). */
  datasets?: string[];
  /** Set by erasure requests: the run (already opened with `executor.openRun`) and the request. */
  runId?: string;
  requestId?: string;
  onProgress?: (p: { dataset: string; done: number; expected: number }) => void;
}

import type { HoldHit, HookOutcome } from "../erasure-types.js";
import type { LineageEntry } from "../lineage.js";
import type { PurgeReport } from "../types.js";

/**
 * received → verified → processing → completed | partially_held | failed,
 * or partial (a store it needs is down: what could be reached was erased,
 * the rest is retried once the store is back).
 *
 * @example
 * if (!REQUEST_STATUSES.includes(q.status)) throw new LetheError("VALIDATION", "status: unknown");
 */
export const REQUEST_STATUSES = [
  "received",
  "verified",
  "processing",
  "completed",
  "partially_held",
  "failed",
  "partial",
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Statuses in which the request has been answered (not overdue any more). */
export const ANSWERED: readonly RequestStatus[] = ["completed", "partially_held"];

/** `requests create` JSON (DESIGN.md). */
export interface RequestCreated {
  id: string;
  status: RequestStatus;
  receivedAt: string;
  dueAt: string;
  /** True when an open request for the same subject already existed and is returned instead. */
  existing?: boolean;
}

/** `requests list` item (DESIGN.md). */
export interface RequestSummary {
  id: string;
  status: RequestStatus;
  receivedAt: string;
  dueAt: string;
  overdue: boolean;
}

/** Per-dataset outcome of a request, summed over every attempt (as in `erase`). */
export interface RequestDataset {
  name: string;
  found: number;
  deleted: number;
  held: number;
  filesRemoved: number;
  failed: number;
  residue: number;
}

export interface RequestExtension {
  by: string;
  reason: string;
  at: string;
  previousDueAt: string;
  dueAt: string;
}

/** What a request's processing produced; stored without any raw subject id or item key. */
export interface RequestOutcome {
  datasets: RequestDataset[];
  holds: HoldHit[];
  lineage: LineageEntry[];
  actions: HookOutcome[];
  held: number;
  failed: number;
  residue: number;
  /** What each touched store did about erased bytes in its files (last attempt). */
  scrub?: PurgeReport[];
}

/** `requests show` JSON: the list item plus `datasets` as in erase, and the rest of the record. */
export interface RequestDetail extends RequestSummary {
  subjectHash: string;
  reason?: string;
  startedAt?: string;
  completedAt?: string;
  /** The policy version frozen when processing first started. */
  policyHash?: string;
  attempts: number;
  extensions: RequestExtension[];
  datasets: RequestDataset[];
  holds: HoldHit[];
  lineage: LineageEntry[];
  actions: HookOutcome[];
  residue: number;
  error?: string;
  /** A signed receipt is available (`requests receipt ID`). */
  receipt: boolean;
}

export interface CreateRequestOptions {
  receivedAt?: Date;
  reason?: string;
}

export interface ListRequestOptions {
  status?: RequestStatus;
  overdue?: boolean;
  now?: Date;
}

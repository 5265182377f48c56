import type { Artifact } from "./event-schema.js";

/** The event queue's public shapes (see event-queue.ts). */
export type EventStatus = "pending" | "processing" | "done" | "failed";

export interface EventRecord {
  id: string;
  status: EventStatus;
  attempts: number;
  artifacts: number;
  receivedAt: string;
  nextAttemptAt: string;
  updatedAt: string;
  lastError?: string;
  result?: EventResult;
}

export interface EventDatasetResult {
  name: string;
  requested: number;
  deleted: number;
  /** Already gone (or never an item of the dataset). */
  missing: number;
  held: number;
  failed: number;
}

export interface EventResult {
  datasets: EventDatasetResult[];
  failures: string[];
  /**
   * Indexes (in the event's artifact list) of artifacts refused for what they
   * are (a link, a directory): recorded once as `failed`, never tried again.
   */
  refused?: number[];
}

export interface EnqueueResult {
  id: string;
  status: EventStatus;
  /** The request id was already accepted; nothing new was stored. */
  duplicate: boolean;
  receivedAt: string;
}

export interface ClaimedEvent {
  id: string;
  attempts: number;
  artifacts: Artifact[];
  /** Artifacts an earlier attempt refused for good ({@link EventResult.refused}): not tried again. */
  refused?: number[];
}

export interface QueueOptions {
  /** Attempts before an event is marked failed (janitor finding). Default 8. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. Default 1 s. */
  baseDelayMs?: number;
  /** Cap on the retry delay. Default 1 h. */
  maxDelayMs?: number;
  /**
   * A processing claim's lock: renewed every third of it by its owner, taken
   * over once it runs out (an owner on another host died); an owner on this
   * host that died is taken over at once. Default 30 s.
   */
  lockMs?: number;
}

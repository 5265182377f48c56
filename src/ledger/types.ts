/** Ledger actions (DESIGN.md); more may be added, none renamed. */
export type LedgerAction =
  | "deleted"
  | "shredded"
  | "held"
  | "failed"
  | "plan"
  | "run_started"
  | "run_finished"
  | "erasure_requested"
  | "erasure_verified"
  | "erasure_processing"
  | "erasure_completed"
  | "erasure_extended"
  | "erasure_failed"
  | "erasure_partial"
  | "hold_added"
  | "hold_released"
  | "key_destroyed"
  | "workspace_opened"
  | "workspace_closed"
  | "workspace_plaintext"
  | "janitor_found"
  | "event_received"
  | "run_missed"
  | "lineage"
  | "ledger_pruned"
  | "partition_dropped"
  | "ttl_set"
  | "key_rotated";

/** What callers hand to the ledger: raw subject and key, hashed before storage. */
export interface EntryInput {
  action: LedgerAction;
  dataset?: string | undefined;
  key?: string | number | undefined;
  subject?: string | null | undefined;
  /** Already-hashed subject, when the raw id is not at hand (e.g. holds). */
  subjectHash?: string | undefined;
  reason?: string | undefined;
  runId?: string | undefined;
  data?: Record<string, unknown> | undefined;
  /**
   * A v2 batch: the entry commits to these items through a Merkle root
   * (`data.items`, `data.root`); each item gets a compact row (src/ledger/items.ts).
   */
  items?: ItemInput[] | undefined;
}

/** One item of a batch entry: raw key and subject, tagged before storage. */
export interface ItemInput {
  key: string | number;
  subject?: string | null | undefined;
  subjectHash?: string | undefined;
}

/** An entry as `audit log` and `audit export` show it (DESIGN.md JSON shape). */
export interface LedgerEntry {
  seq: number;
  at: string;
  action: string;
  dataset?: string;
  key?: number | string;
  keyHash?: string;
  subjectHash?: string;
  reason?: string;
  runId?: string;
  data?: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** On an item of a v2 batch entry (`seq` is the batch entry's): its index in the batch. */
  item?: number;
  /** The 8-byte tag (hex) of a non-integer item key of a v2 batch. */
  keyTag?: string;
  /** The 8-byte tag (hex) of the item's subject HMAC, on an item of a v2 batch. */
  subjectTag?: string;
}

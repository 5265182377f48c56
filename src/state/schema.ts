/** Kysely table types of lethe's own state database (SQLite or PostgreSQL). */
export interface LedgerTable {
  seq: number;
  at: string;
  action: string;
  dataset: string | null;
  item_key: string | null;
  key_hash: string | null;
  subject_hash: string | null;
  reason: string | null;
  run_id: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

/** One item of a v2 batch entry (0011-ledger-items; see src/ledger/items.ts). */
export interface LedgerItemsTable {
  seq: number;
  idx: number;
  item_key: number | string | null;
  key_tag: Buffer | null;
  subject_tag: Buffer | null;
}

export interface StateDatabase {
  ledger: LedgerTable;
  ledger_items: LedgerItemsTable;
  /** Notifications waiting for (or done with) delivery (0007-notify-outbox). */
  notify_outbox: {
    id: string;
    event: string;
    target: string;
    secret_ref: string | null;
    body: string;
    dedupe: string | null;
    status: string;
    attempts: number;
    next_at: string;
    created_at: string;
    delivered_at: string | null;
    last_error: string | null;
  };
  ledger_head: {
    id: number;
    seq: number;
    hash: string;
    frontier: string;
    mac: string | null;
    keyed_from: number | null;
  };
  /** `key_id` names the signing key (0010-signing-keys; NULL before it: the first key). */
  checkpoints: { size: number; root: string; at: string; signature: string; key_id: string | null };
  ledger_anchors: {
    size: number;
    hash: string;
    frontier: string;
    root: string;
    before: string;
    at: string;
    signature: string;
    key_id: string | null;
  };
  /** Public keys of every ledger signing key, current and retired (0010-signing-keys). */
  signing_keys: {
    key_id: string;
    public_key: string;
    created_at: string;
    retired_at: string | null;
    /** A retired key signs nothing that covers more entries than this. */
    retired_after: number | null;
    /** HMAC under the chain key (see ledger/signing-keys.ts). */
    mac: string;
  };
  runs: {
    id: string;
    kind: string;
    started_at: string;
    finished_at: string | null;
    status: string;
    summary: string | null;
    /** The process that started the run (0008-owner-liveness). */
    owner: string | null;
  };
  intents: { id: string; run_id: string; dataset: string; payload: string; opened_at: string; mac: string | null };
  holds: {
    id: string;
    subject_hash: string | null;
    dataset: string | null;
    reason: string;
    until: string | null;
    created_at: string;
    released_at: string | null;
  };
  secrets: { name: string; value: string; created_at: string };
  erasure_requests: ErasureRequestTable;
  lethe_meta: { key: string; value: string };
  /** Open transient workspaces (0003-transient). */
  leases: {
    id: string;
    request_hash: string;
    dir: string;
    host: string;
    pid: number;
    opened_at: string;
    expires_at: string;
    plaintext: number;
  };
  /** Current key version per subject; survives destruction (0003-transient). */
  subject_key_heads: { subject_hash: string; current_version: number; updated_at: string };
  /** Per-subject data keys, wrapped by the master key (0003-transient). */
  subject_keys: { subject_hash: string; version: number; wrapped: string; uses: number; created_at: string };
  /** Durable inference-complete events (0003-transient). */
  events: {
    id: string;
    request_hash: string;
    payload_hash: string;
    payload: string;
    artifacts: number;
    status: string;
    attempts: number;
    received_at: string;
    next_attempt_at: string;
    locked_until: string | null;
    updated_at: string;
    last_error: string | null;
    result: string | null;
    /** The claiming process (0008-owner-liveness; executor/liveness.ts). */
    owner: string | null;
  };
  api_tokens: {
    id: string;
    hash: string;
    scopes: string;
    label: string | null;
    created_at: string;
    revoked_at: string | null;
    last_used_at: string | null;
  };
  schedule_jobs: { job: string; registered_at: string };
  schedule_claims: {
    job: string;
    fire_time: string;
    status: string;
    instance: string;
    epoch: number;
    claimed_at: string;
    finished_at: string | null;
    run_id: string | null;
    resumed_from: string | null;
    detail: string | null;
  };
  leader_lease: { name: string; holder: string | null; epoch: number; expires_at: number; acquired_at: string | null };
  server_status: { key: string; value: string; updated_at: string };
}

/** One erasure request (migration 0002). JSON columns hold text; see core/requests. */
export interface ErasureRequestTable {
  id: string;
  subject_hash: string;
  /** AES-256-GCM box of the raw subject id; NULL once the request completed. */
  subject_box: string | null;
  status: string;
  reason: string | null;
  received_at: string;
  due_at: string;
  extensions: string;
  policy_hash: string | null;
  policy_datasets: string | null;
  run_ids: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  started_at: string | null;
  completed_at: string | null;
  result: string | null;
  error: string | null;
  receipt: string | null;
  ledger_first: number | null;
  ledger_last: number | null;
  created_at: string;
  updated_at: string;
}

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

export interface StateDatabase {
  ledger: LedgerTable;
  ledger_head: { id: number; seq: number; hash: string; frontier: string };
  checkpoints: { size: number; root: string; at: string; signature: string };
  runs: {
    id: string;
    kind: string;
    started_at: string;
    finished_at: string | null;
    status: string;
    summary: string | null;
  };
  intents: { id: string; run_id: string; dataset: string; payload: string; opened_at: string };
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
  lethe_meta: { key: string; value: string };
}

import type { Kysely, Transaction } from "kysely";
import type { LedgerItemsTable, LedgerTable, StateDatabase } from "./schema.js";

/**
 * What differs between SQLite and PostgreSQL for lethe's own state, as named
 * capabilities instead of `if (dialect === …)` checks spread through the code.
 */
export interface StateDialect {
  readonly name: "sqlite" | "postgres";
  /** Several processes can share this state and coordinate through it. */
  readonly shared: boolean;
  /** The database schema that holds lethe's tables, where the engine has schemas (PostgreSQL). */
  readonly schema?: string;
  /** Readies the state's structure before any migration or query runs (PostgreSQL: lethe's schema). */
  prepare?(db: Kysely<StateDatabase>): Promise<void>;
  /** Inserts many ledger rows in few round trips. */
  insertLedgerRows(trx: Transaction<StateDatabase>, rows: LedgerTable[]): Promise<void>;
  /** Inserts the item rows of v2 batch entries inside `trx` (bulk, no per-row round trip). */
  insertLedgerItems(trx: Transaction<StateDatabase>, rows: LedgerItemsTable[]): Promise<void>;
  /**
   * Removes ledger entries `seq <= upTo` inside `trx`, the one sanctioned
   * DELETE (`audit prune`): the append-only guard is lifted for this
   * statement only and is back before the transaction commits.
   */
  pruneLedger(trx: Transaction<StateDatabase>, upTo: number): Promise<number>;
  /** Installs triggers that refuse UPDATE and DELETE on the ledger. */
  installLedgerGuards(db: Kysely<StateDatabase>): Promise<void>;
  /**
   * Runs `fn` so that its commit survives power loss, not only a process
   * crash (SQLite: synchronous=FULL on a held connection; PostgreSQL commits
   * are durable already).
   */
  durably<T>(db: Kysely<StateDatabase>, fn: (db: Kysely<StateDatabase>) => Promise<T>): Promise<T>;
  /** Makes deleted bytes unrecoverable from the files (SQLite: WAL checkpoint). */
  scrub(db: Kysely<StateDatabase>): Promise<void>;
  close(): Promise<void>;
}

export type StateTx = Transaction<StateDatabase>;

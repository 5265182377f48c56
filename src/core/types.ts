import type { Kysely } from "kysely";
import type { DatasetConfig, StoreConfig } from "../config/types.js";

/**
 * The driver contract. A store driver answers a few questions about its
 * datasets and deletes batches idempotently; it knows nothing of plans,
 * holds or the ledger, so adding a driver never touches the core.
 */

/** One row, file or object. */
export interface Item {
  /** Primary key value, path relative to the fs root, or object key. */
  key: string | number;
  subject?: string | null;
  /** Row-linked file path, as stored in the row. */
  file?: string | null;
  /** Epoch seconds at which the item expired / will expire, when known. */
  expiresAt?: number;
  bytes?: number;
  /**
   * Why the item counts as expired when that is not "past a time": a Redis
   * key without a TTL, or with one longer than the retention. Free of values
   * (the janitor shows it beside the finding).
   */
  reason?: string;
}

export interface FailedItem {
  item: Item;
  reason: string;
  /** Refused for what the item is (a link, a directory): trying it again cannot delete it. */
  permanent?: boolean;
}

export interface DeleteResult {
  /** Exactly the items this call removed (RETURNING / unlink success). */
  deleted: Item[];
  failed: FailedItem[];
  /**
   * Items whose delete was sent but whose reply never came (a reset
   * connection): they may or may not be gone. The executor keeps their
   * intent and reconciles them (which still exist?), never assumes.
   */
  unknown?: Item[];
}

/** What {@link DatasetDriver.expire} did. */
export interface ExpireResult {
  /** Items whose lifetime this call set or lowered; `expiresAt` is their new expiry (epoch s). */
  expired: Item[];
  failed: FailedItem[];
  /** Sent, reply lost: the executor asks `fetchExpired` which still exceed the retention. */
  unknown?: Item[];
}

export interface DeleteOptions {
  /** Re-check expiry against this instant inside the delete itself (retention runs). */
  expiredAt?: Date;
  action: "delete" | "shred";
}

export interface ExpiredSummary {
  expired: number;
  bytes?: number;
  /** Expired counts per reason, for drivers whose items exceed the retention in more than one way (Redis: `no TTL`, `TTL longer than the retention`). */
  reasons?: Record<string, number>;
  /** Expired item counts per raw subject (so holds can be applied to counts). */
  bySubject?: Map<string, number>;
}

/** Named capabilities instead of `if (kind === …)` checks in the core. */
export interface DatasetCapabilities {
  /** Deletes report exactly what they removed (SQL RETURNING, per-file unlink). */
  exactDeletes: boolean;
  /** Items can be found by subject (sql subject column, path pattern). */
  subjects: boolean;
  /** Items carry byte sizes. */
  bytes: boolean;
  /** Rows may link to files in an fs store. */
  linkedFiles: boolean;
}

export interface DatasetDriver {
  readonly config: DatasetConfig;
  readonly capabilities: DatasetCapabilities;
  count(): Promise<number>;
  /** Expired counts; `bySubject` only when asked (it groups every expired row, so only holds need it). */
  summarizeExpired(now: Date, opts?: { bySubject?: boolean }): Promise<ExpiredSummary>;
  /** Expired items in batches, in key order, starting after `afterKey`. */
  scanExpired(now: Date, batchSize: number): AsyncIterable<Item[]>;
  /** Those of `keys` that exist and are expired at `now` (plan files). */
  fetchExpired(keys: Item["key"][], now: Date): Promise<Item[]>;
  /** Every item of one subject, in batches. */
  scanSubject(subject: string, batchSize: number): AsyncIterable<Item[]>;
  /** Deletes the given items; items already gone are neither deleted nor failed. */
  deleteBatch(items: Item[], opts: DeleteOptions): Promise<DeleteResult>;
  /**
   * Set when the driver can run its batch delete inside a transaction it is
   * handed: when `database` is lethe's state database, the executor deletes
   * and appends the ledger entries in one transaction, with no intent.
   */
  readonly transactional?: TransactionalDelete;
  /**
   * Shortens items' lifetimes so each ends at most `seconds` from now (a
   * Redis TTL), never lengthening one; items gone or already within it are
   * neither expired nor failed. Retention of an `action: expire` dataset
   * goes through this (driven and recorded by the executor) instead of
   * deleteBatch; "expired" items of such a dataset are those whose lifetime
   * exceeds the retention, whatever `now` is.
   */
  expire?(items: Item[], seconds: number): Promise<ExpireResult>;
  /**
   * Could this key name an item of the dataset at all (inside its root or
   * prefix, matched by its globs)? Pure, no I/O: lets events refuse artifact
   * keys lethe would never delete instead of reporting them as already gone.
   */
  ownsKey?(key: Item["key"]): boolean;
  /**
   * The items these keys name, as the store has them: its own spelling of the
   * key (`"01"` names row `1`), the subject and linked file read from the item
   * itself. Keys that name nothing are left out. Explicit deletes (events) go
   * through it so holds see the subject the store records, not what a caller says.
   */
  findItems?(keys: Item["key"][]): Promise<Item[]>;
  /** The subject an item key belongs to, for drivers that carry it in the key (`subjectFromPath`). */
  subjectOf?(key: Item["key"]): string | undefined;
  /**
   * Linked-file datasets: which of these file paths rows still point at. A file
   * two rows share outlives the first row's deletion (the other row may belong
   * to another subject, or be held).
   */
  filesInUse?(paths: string[]): Promise<Set<string>>;
  /**
   * What the last scan could not look at (an unreadable directory may hide
   * expired files): reported as failures, so the run does not look complete.
   * Returns and forgets them.
   */
  scanProblems?(): { key: string; reason: string }[];
  /**
   * Keys that name something present that lethe will never delete (a symlink,
   * a directory): explicit deletes report them as failed, not as already gone.
   */
  refusedKeys?(keys: Item["key"][]): Promise<Set<string>>;
  /** Which of these keys still exist (crash reconciliation, residue checks). */
  existing(keys: Item["key"][]): Promise<Set<string>>;
  /** Expiry (epoch s) of the oldest expired item, for retention lag. */
  oldestExpiry(now: Date): Promise<number | undefined>;
  /** Every item, in batches (model lineage lists a derived dataset's artifacts). */
  list?(batchSize: number): AsyncIterable<Item[]>;
  /** Distinctive text values held by these items (kept in memory only), so a purge can look for leftovers. */
  contents?(items: Item[]): Promise<string[]>;
  /** Items expiring per UTC day over the next `days` days (see `expiryDayBounds`), for the forecast chart. */
  expiryHistogram?(now: Date, days: number): Promise<number[]>;
  /** Range partitions on the creation column that can be dropped whole instead of row-deleted. */
  readonly partitions?: PartitionDriver;
}

/** One partition of a dataset's table; names and bounds come from the catalog and carry no personal data. */
export interface Partition {
  /** Qualified name (`schema.table`). */
  name: string;
  /** The range's bounds as the catalog prints them (`'2026-01-01 00:00:00+00'`). */
  from: string;
  to: string;
}

/** Where a partition is: still in the table, detached (rows out of the dataset, not yet dropped), or gone. */
export type PartitionStatus = "attached" | "detached" | "gone";

/**
 * Dropping whole partitions. The core decides (holds, ledger mode, order:
 * intent → detach → read keys → drop → outcome); the driver only answers.
 * Several partitions go through each step together, one transaction each.
 */
export interface PartitionDriver {
  /** Partitions whose every row is expired at `now`, oldest first (never the default or boundary one). */
  expired(now: Date): Promise<Partition[]>;
  /** The distinct subjects of a partition's rows, in batches (legal holds). */
  subjects(p: Partition, batchSize: number): AsyncIterable<string[]>;
  /** Where each partition is, by name, in one catalog read. */
  status(ps: Partition[]): Promise<Map<string, PartitionStatus>>;
  /**
   * Takes the partitions out of the dataset's table in one transaction; their rows stay in tables of their own
   * until `drop`. Waits only briefly for locks; throws a STORE_ERROR whose `details.refused` is true when the
   * database refused it (nothing detached), as `drop` does (nothing dropped).
   */
  detach(ps: Partition[]): Promise<void>;
  /** Every row of a detached partition in key order (after `afterKey`), streamed through a server-side cursor. */
  items(p: Partition, batchSize: number, afterKey?: Item["key"]): AsyncIterable<Item[]>;
  /** Row count and key digest of each detached partition (docs/partitions.md), by name, computed where the rows are. */
  digests(ps: Partition[]): Promise<Map<string, { rows: number; digest: string }>>;
  /** Drops detached partitions in one transaction; refuses (drops none) if any is attached again. */
  drop(ps: Partition[]): Promise<void>;
}

export interface FileRemoval {
  ok: boolean;
  /** Set when nothing was removed because the file was already gone. */
  missing?: boolean;
  reason?: string;
  shredded?: boolean;
}

export interface StoreDriver {
  readonly config: StoreConfig;
  /** Opens a dataset, validating tables/columns; problems are config issues with key paths. */
  dataset(ds: DatasetConfig, issues: Issues): Promise<DatasetDriver | undefined>;
  /** fs stores: remove one file given as stored in a row, only inside the root. */
  removeFile?(path: string, action: "delete" | "shred"): Promise<FileRemoval>;
  /** After deletions: make removed bytes unrecoverable where the engine allows (SQLite WAL). */
  scrub?(): Promise<void>;
  /**
   * After an erasure: make sure the erased `values` are not left anywhere in
   * the store's files (stale copies in free page space), rewriting them if
   * needed. `mode` is `erasure.scrub`. Erasures of one process whose purges
   * meet within `windowMs` (`erasure.scrubWindow`), or while a pass runs,
   * share one search.
   */
  purge?(values: string[], mode: PurgeMode, windowMs?: number): Promise<PurgeReport>;
  /**
   * `lethe discover`: every table with its columns and sampled values (sql),
   * or groups of items no dataset covers, with sampled paths and contents
   * (fs, s3, redis). Bounded by `sampleSize`; samples stay in memory.
   */
  discover?(opts: DiscoverRequest): Promise<DiscoveredTable[]>;
  close(): Promise<void>;
}

/** A dataset's row-linked files: the fs store they are in, and every dataset linking into it. */
export interface LinkedFiles {
  store: StoreDriver;
  linkers: DatasetDriver[];
}

export type PurgeMode = "verify" | "vacuum" | "checkpoint";

/** What a store's purge did; `complete: false` means erased bytes may remain in its files. */
export interface PurgeReport {
  store: string;
  mode: PurgeMode;
  /** Bytes of database files searched for the erased values. */
  scannedBytes: number;
  /** Leftover copies of erased values found in the files (outside live rows) before any rewrite. */
  found: number;
  /** Occurrences inside live rows (someone else's data holding the same text): left alone. */
  liveMatches?: number;
  /** How many erasures this one search served, when more than one (`erasure.scrubWindow`). */
  shared?: number;
  vacuumed: boolean;
  complete: boolean;
  reason?: string;
}

/** What `discover` hands a store driver. */
export interface DiscoverRequest {
  /** Values sampled per column (sql), files or objects whose contents are sampled (fs, s3), keys (redis). */
  sampleSize: number;
  /** The datasets configured in this store (globs, subject patterns). */
  datasets: DatasetConfig[];
  /** Replaces personal data in a text with typed markers: group names built from paths must pass through it. */
  mask: (text: string) => string;
}

/**
 * One table as `discover` sees it, or one group of files, objects or keys
 * that no dataset covers. Sampled values stay in memory and are never logged
 * or stored; a group's name is a pattern already masked by the driver.
 */
export interface DiscoveredTable {
  /** The name as a dataset's `table:` would spell it, or a masked path pattern (`exports/u-#/*.csv`). */
  table: string;
  /** Other spellings of the same table (e.g. `public.logs` for `logs`). */
  aliases: string[];
  /** What `table` names (default `table`). */
  kind?: "table" | "files" | "objects" | "keys";
  /** Files, objects or keys owned by this dataset's globs or pattern (one without a subject pattern). */
  dataset?: string;
  /** Segments (1-based) of a path or key shape shown as `*` and how many distinct values each stands for. */
  distinct?: { segment: number; values: number }[];
  columns: DiscoveredColumn[];
}

export interface DiscoveredColumn {
  name: string;
  type: string;
  samples: string[];
  /** What one sample is, in messages (`values`, `files`, `paths`). */
  unit?: string;
  /** A finding the driver made itself (a path matching a dataset's subject pattern), already free of values. */
  reason?: string;
}

/** Collects config problems and warnings while drivers validate. */
export interface Issues {
  error(path: string, message: string): void;
  warn(path: string, message: string): void;
}

export type StoreFactory = (config: StoreConfig) => Promise<StoreDriver>;
export type DriverRegistry = Record<StoreConfig["kind"], StoreFactory>;

/**
 * A batch delete that runs on a transaction of lethe's own state (same
 * database): it commits or rolls back with the ledger entries appended there.
 *
 * @example
 * if (ds.transactional && sameSession(ds.transactional.database, state.location))
 *   await state.db.transaction().execute((trx) => ds.transactional.deleteBatchIn(trx, items, opts));
 */
export interface TransactionalDelete {
  /** The dataset's database as a store URL (`postgres://…`, `sqlite:PATH`), compared with the state's. */
  readonly database: string;
  /**
   * Like `deleteBatch`, on `tx`: a statement the database refuses is undone to
   * a savepoint (the transaction stays usable); a lost reply returns the
   * items as `unknown`, and the caller must then roll the transaction back.
   */
  deleteBatchIn(tx: Kysely<unknown>, items: Item[], opts: DeleteOptions): Promise<DeleteResult>;
}

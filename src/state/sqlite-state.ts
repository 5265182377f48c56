import { join } from "node:path";
import Database from "better-sqlite3";
import { type DialectAdapter, Kysely, SqliteAdapter, SqliteDialect, sql } from "kysely";
import { cachedStatements } from "../core/cached-statements.js";
import type { StateDialect } from "./dialect.js";
import type { LedgerItemsTable, LedgerTable, StateDatabase } from "./schema.js";
import { corruptStateFile } from "./state-integrity.js";
import { secureStateDir } from "./state-permissions.js";

const NO_DELETE = sql`create trigger if not exists ledger_no_delete before delete on ledger
  begin select raise(abort, 'the ledger is append-only: DELETE refused'); end`;

const ITEMS_NO_DELETE = sql`create trigger if not exists ledger_items_no_delete before delete on ledger_items
  begin select raise(abort, 'ledger_items are append-only: DELETE refused'); end`;

/**
 * SQLite runs DDL inside transactions, but Kysely's adapter says it does not, so its migrator would run each
 * migration statement by statement: a process killed halfway through one kept its first statements without its
 * record, and every later open failed on them ("index … already exists"). Saying so makes the pending migrations
 * one transaction: all of them or none.
 */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class StateSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/**
 * The embedded default: `state.db` in the state folder. secure_delete wipes
 * freed pages, so secrets and intents removed later leave no bytes behind.
 *
 * @example
 * const { db, dialect } = openSqliteState("/srv/.lethe", console.warn);
 */
export function openSqliteState(
  dir: string,
  warn?: (msg: string) => void,
): { db: Kysely<StateDatabase>; dialect: StateDialect } {
  secureStateDir(dir, warn);
  const raw = new Database(join(dir, "state.db"));
  try {
    // The first statement reads the file: random bytes or a truncated file fail here.
    raw.pragma("journal_mode = WAL");
  } catch (err) {
    raw.close();
    throw corruptStateFile(err) ?? err;
  }
  raw.pragma("synchronous = NORMAL");
  raw.pragma("secure_delete = ON");
  raw.pragma("busy_timeout = 10000");
  raw.pragma("foreign_keys = ON");
  // The ledger's subject index takes random keys; a larger page cache keeps its hot pages in memory.
  raw.pragma("cache_size = -65536");
  // A long run rewrites the same index pages in every batch: checkpoint rarely and let the
  // WAL coalesce them (a run ends with wal_checkpoint(TRUNCATE) anyway).
  raw.pragma("wal_autocheckpoint = 20000");
  const db = new Kysely<StateDatabase>({ dialect: new StateSqliteDialect({ database: cachedStatements(raw) }) });
  // Prepared on first use: the table exists only once migrations have run.
  let insert: Database.Statement | undefined;
  const prepare = () =>
    raw.prepare(
      `insert into ledger (seq, at, action, dataset, item_key, key_hash, subject_hash, reason, run_id, data, prev_hash, hash)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  let insertItem: Database.Statement | undefined;
  const dialect: StateDialect = {
    name: "sqlite",
    shared: false,
    // Runs on the connection Kysely holds for the transaction, so the rows join it.
    async insertLedgerRows(_trx, rows: LedgerTable[]) {
      insert ??= prepare();
      // Positional binding is several times cheaper than named binding per row.
      for (const r of rows)
        insert.run(
          r.seq,
          r.at,
          r.action,
          r.dataset,
          r.item_key,
          r.key_hash,
          r.subject_hash,
          r.reason,
          r.run_id,
          r.data,
          r.prev_hash,
          r.hash,
        );
    },
    async insertLedgerItems(_trx, rows: LedgerItemsTable[]) {
      insertItem ??= raw.prepare(
        "insert into ledger_items (seq, idx, item_key, key_tag, subject_tag) values (?, ?, ?, ?, ?)",
      );
      for (const r of rows) insertItem.run(r.seq, r.idx, r.item_key, r.key_tag, r.subject_tag);
    },
    // WAL with synchronous=NORMAL survives kill -9; acknowledgements promised as durable get FULL
    // on a connection held for the call, so no other commit is slowed by the switch.
    durably(k, fn) {
      return k.connection().execute(async (conn) => {
        await sql`pragma synchronous = FULL`.execute(conn);
        try {
          return await fn(conn);
        } finally {
          await sql`pragma synchronous = NORMAL`.execute(conn);
        }
      });
    },
    async pruneLedger(trx, upTo) {
      // DDL is transactional in SQLite: if anything fails, the trigger was never gone.
      await sql`drop trigger if exists ledger_no_delete`.execute(trx);
      await sql`drop trigger if exists ledger_items_no_delete`.execute(trx);
      await sql`delete from ledger_items where seq <= ${upTo}`.execute(trx);
      const r = await sql`delete from ledger where seq <= ${upTo}`.execute(trx);
      await NO_DELETE.execute(trx);
      await ITEMS_NO_DELETE.execute(trx);
      return Number(r.numAffectedRows ?? 0);
    },
    async installLedgerGuards(k) {
      await sql`create trigger if not exists ledger_no_update before update on ledger
        begin select raise(abort, 'the ledger is append-only: UPDATE refused'); end`.execute(k);
      await NO_DELETE.execute(k);
      await sql`create trigger if not exists ledger_items_no_update before update on ledger_items
        begin select raise(abort, 'ledger_items are append-only: UPDATE refused'); end`.execute(k);
      await ITEMS_NO_DELETE.execute(k);
      // Signed checkpoints and prune anchors are evidence too: a deleted checkpoint would hide a truncation.
      for (const table of ["checkpoints", "ledger_anchors"])
        for (const op of ["update", "delete"])
          await sql`create trigger if not exists ${sql.id(`${table}_no_${op}`)} before ${sql.raw(op)} on ${sql.table(table)}
            begin select raise(abort, ${sql.lit(`${table} are append-only: ${op.toUpperCase()} refused`)}); end`.execute(
            k,
          );
    },
    async scrub() {
      raw.pragma("wal_checkpoint(TRUNCATE)");
    },
    async close() {
      // Kysely's destroy closes the better-sqlite3 handle.
    },
  };
  return { db, dialect };
}

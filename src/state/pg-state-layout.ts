import { type Kysely, sql } from "kysely";
import { LetheError } from "../core/errors.js";
import { ownTableNames } from "./own-tables.js";
import { defaultSchemaOf } from "./pg-state-schema.js";
import type { StateDatabase } from "./schema.js";
import { STATE_SCHEMA } from "./state-schema-name.js";

/** The advisory lock every lethe instance takes to change the state's structure (also the ledger guards'). */
export const STATE_DDL_LOCK = 7436911;

/**
 * Makes lethe's schema ready before anything else touches the state: creates
 * it, and moves a state laid out by earlier versions (tables in the
 * connection's default schema, normally `public`) into it, all in one
 * transaction under the structure lock, so several instances starting at
 * once see either the old layout or the new one and exactly one moves it.
 * The move happens only when it is unambiguous: lethe's migration record
 * lies in the default schema and not yet in lethe's; both at once is
 * refused. Indexes, triggers and owned sequences move with their tables, and
 * no row changes, so the ledger and older checkpoints verify as before.
 *
 * Returns whether this call moved an old layout.
 *
 * @example
 * await prepareStateSchema(db, "postgres://lethe@db/app"); // false: nothing to move
 */
export async function prepareStateSchema(db: Kysely<StateDatabase>, url: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(STATE_DDL_LOCK)})`.execute(trx);
    const records = await sql<{ s: string }>`select n.nspname as s from pg_class c
      join pg_namespace n on n.oid = c.relnamespace where c.relname = 'lethe_migrations' and c.relkind = 'r'`.execute(
      trx,
    );
    const where = new Set(records.rows.map((r) => r.s));
    // Created only when missing: CREATE SCHEMA checks the database's CREATE privilege even with IF NOT EXISTS,
    // and a schema an administrator made for lethe's role is enough.
    const has = await sql<{ ok: boolean }>`select to_regnamespace(${STATE_SCHEMA}) is not null as ok`.execute(trx);
    if (!has.rows[0]?.ok) await sql`create schema ${sql.id(STATE_SCHEMA)}`.execute(trx);
    // Only another schema holding a migration record can be an old layout; the common case opens no extra connection.
    if ([...where].every((s) => s === STATE_SCHEMA)) return false;
    const legacy = await defaultSchemaOf(url);
    if (!where.has(legacy)) return false;
    if (where.has(STATE_SCHEMA))
      throw new LetheError(
        "STATE_ERROR",
        `lethe's state exists twice in this database: in schema "${STATE_SCHEMA}" and, laid out by an earlier version, in schema "${legacy}"; keep one (drop or rename the other's tables) and start again`,
      );
    const present = await sql<{ t: string }>`select c.relname as t from pg_class c
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${legacy} and c.relkind in ('r', 'p')`.execute(
      trx,
    );
    const own = await ownTableNames();
    for (const { t } of present.rows)
      if (own.has(t)) await sql`alter table ${sql.id(legacy, t)} set schema ${sql.id(STATE_SCHEMA)}`.execute(trx);
    const fn = await sql`select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = ${legacy} and p.proname = 'lethe_ledger_append_only'`.execute(trx);
    if (fn.rows.length > 0)
      await sql`alter function ${sql.id(legacy, "lethe_ledger_append_only")}() set schema ${sql.id(STATE_SCHEMA)}`.execute(
        trx,
      );
    return true;
  });
}

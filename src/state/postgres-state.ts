import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { StateDialect } from "./dialect.js";
import "./pg-int8.js";
import { prepareStateSchema, STATE_DDL_LOCK } from "./pg-state-layout.js";
import { statePoolConfig } from "./pg-state-schema.js";
import type { LedgerItemsTable, LedgerTable, StateDatabase } from "./schema.js";
import { STATE_SCHEMA } from "./state-schema-name.js";

const COLS = [
  "seq",
  "at",
  "action",
  "dataset",
  "item_key",
  "key_hash",
  "subject_hash",
  "reason",
  "run_id",
  "data",
  "prev_hash",
  "hash",
] as const;

/**
 * Shared state on PostgreSQL: how several lethe instances coordinate. Every
 * table lives in lethe's own schema (pg-state-schema.ts), which the pool's
 * connections resolve unqualified names to.
 */
export function openPostgresState(url: string): { db: Kysely<StateDatabase>; dialect: StateDialect } {
  const pool = new pg.Pool(statePoolConfig(url, { max: 8 }));
  // An idle client dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  pool.on("connect", (c) => {
    // A connection reset mid-query rejects that query; the client's own error event must not crash the process.
    c.on("error", () => undefined);
    c.query("set time zone 'UTC'").catch(() => undefined);
  });
  const db = new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool }) });
  const dialect: StateDialect = {
    name: "postgres",
    shared: true,
    schema: STATE_SCHEMA,
    prepare: async (k) => {
      await prepareStateSchema(k, url);
    },
    // One statement per batch: arrays unnested server side instead of thousands of parameters.
    async insertLedgerRows(trx, rows: LedgerTable[]) {
      if (rows.length === 0) return;
      const arrays = COLS.map((c) => rows.map((r) => r[c]));
      await sql`insert into ledger (${sql.raw(COLS.join(", "))})
        select * from unnest(${arrays[0]}::bigint[], ${arrays[1]}::text[], ${arrays[2]}::text[], ${arrays[3]}::text[],
          ${arrays[4]}::text[], ${arrays[5]}::text[], ${arrays[6]}::text[], ${arrays[7]}::text[], ${arrays[8]}::text[],
          ${arrays[9]}::text[], ${arrays[10]}::text[], ${arrays[11]}::text[])`.execute(trx);
    },
    async insertLedgerItems(trx, rows: LedgerItemsTable[]) {
      if (rows.length === 0) return;
      await sql`insert into ledger_items (seq, idx, item_key, key_tag, subject_tag)
        select * from unnest(${rows.map((r) => r.seq)}::bigint[], ${rows.map((r) => r.idx)}::int[],
          ${rows.map((r) => r.item_key)}::bigint[], ${rows.map((r) => r.key_tag)}::bytea[],
          ${rows.map((r) => r.subject_tag)}::bytea[])`.execute(trx);
    },
    // synchronous_commit=on: every commit is already durable.
    durably: (k, fn) => fn(k),
    async pruneLedger(trx, upTo) {
      // Transactional too; ALTER TABLE also locks out concurrent appenders until the commit.
      await sql`alter table ledger disable trigger ledger_append_only`.execute(trx);
      await sql`alter table ledger_items disable trigger ledger_items_append_only`.execute(trx);
      await sql`delete from ledger_items where seq <= ${upTo}`.execute(trx);
      const r = await sql`delete from ledger where seq <= ${upTo}`.execute(trx);
      await sql`alter table ledger_items enable trigger ledger_items_append_only`.execute(trx);
      await sql`alter table ledger enable trigger ledger_append_only`.execute(trx);
      return Number(r.numAffectedRows ?? 0);
    },
    async installLedgerGuards(k) {
      // Several instances start at once: one at a time (advisory lock), and only what is missing is
      // created, so the guards are never dropped, not even for a moment.
      await k.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${sql.lit(STATE_DDL_LOCK)})`.execute(trx);
        await sql`create or replace function lethe_ledger_append_only() returns trigger language plpgsql as $$
          begin raise exception '% is append-only: % refused', tg_table_name, tg_op; end $$`.execute(trx);
        const have = await sql<{ t: string }>`select tgname as t from pg_trigger
          where tgrelid in ('ledger'::regclass, 'ledger_items'::regclass, 'checkpoints'::regclass,
            'ledger_anchors'::regclass)`.execute(trx);
        const existing = new Set(have.rows.map((r) => r.t));
        const guards: [string, string][] = [];
        for (const table of ["ledger", "ledger_items", "checkpoints", "ledger_anchors"]) {
          guards.push([`${table}_append_only`, `before update or delete on ${table} for each row`]);
          guards.push([`${table}_no_truncate`, `before truncate on ${table} for each statement`]);
        }
        for (const [name, when] of guards)
          if (!existing.has(name))
            await sql`create trigger ${sql.id(name)} ${sql.raw(when)} execute function lethe_ledger_append_only()`.execute(
              trx,
            );
      });
    },
    async scrub() {
      // PostgreSQL keeps dead tuples until VACUUM; see README "What erasure leaves behind".
    },
    async close() {},
  };
  return { db, dialect };
}

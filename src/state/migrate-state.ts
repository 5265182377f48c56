import { sql } from "kysely";
import { LetheError } from "../core/errors.js";
import type { StateHandle } from "./open-state.js";
import { ownTableNames } from "./own-tables.js";

/** Rows per insert: a page of the widest table stays under PostgreSQL's 65,535 parameters. */
const PAGE = 2000;
/** Kysely's own bookkeeping: the target's migrations already ran and wrote their own rows. */
const SKIP = new Set(["lethe_migrations", "lethe_migrations_lock"]);

export interface MigratedTable {
  table: string;
  rows: number;
}

/**
 * Copies every row of lethe's state into another, freshly migrated state
 * database (SQLite → PostgreSQL, or back), unchanged: ledger entries keep
 * their sequence numbers, hashes and checkpoints their signatures, and the
 * wrapped keys (subject HMAC, signing key, key ring) stay wrapped by the same
 * master key, so nothing is re-signed and the copy verifies as the original.
 * The target must hold no history (an empty ledger); everything is copied in
 * one target transaction, so a failure leaves it empty.
 *
 * @example
 * const copied = await migrateState(sqliteState, postgresState);
 */
export async function migrateState(from: StateHandle, to: StateHandle): Promise<MigratedTable[]> {
  const head = await to.db.selectFrom("ledger_head").select("seq").executeTakeFirst();
  if (Number(head?.seq ?? 0) > 0)
    throw new LetheError("CONFLICT", "the target state already holds a ledger; migrate only into an empty database");
  const tables = [...(await ownTableNames())].filter((t) => !SKIP.has(t)).sort();
  const out: MigratedTable[] = [];
  // Untyped from here: tables are copied by name, whatever later migrations add.
  const src = from.db as unknown as import("kysely").Kysely<Record<string, Record<string, unknown>>>;
  await to.db.transaction().execute(async (trx) => {
    const dst = trx as unknown as import("kysely").Kysely<Record<string, Record<string, unknown>>>;
    for (const table of tables) {
      // Rows the target's migrations seeded (the empty ledger head) are replaced by the source's.
      if (table !== "ledger") await sql`delete from ${sql.table(table)}`.execute(dst);
      let rows = 0;
      let after = 0;
      let afterIdx = -1;
      for (let offset = 0; ; offset += PAGE) {
        // The ledger and its items (the big ones) page by key; the other tables are small and page by their first column.
        const page = await sql<Record<string, unknown>>`select * from ${sql.table(table)}
          ${
            table === "ledger"
              ? sql`where seq > ${after} order by seq limit ${PAGE}`
              : table === "ledger_items"
                ? sql`where seq > ${after} or (seq = ${after} and idx > ${afterIdx}) order by seq, idx limit ${PAGE}`
                : sql`order by 1 limit ${PAGE} offset ${offset}`
          }`
          .execute(src)
          .catch(() => undefined);
        if (!page) break; // a table a later migration dropped
        if (page.rows.length > 0) await dst.insertInto(table).values(page.rows).execute();
        rows += page.rows.length;
        const last = page.rows[page.rows.length - 1];
        after = Number(last?.seq ?? after);
        afterIdx = Number(last?.idx ?? afterIdx);
        if (page.rows.length < PAGE) break;
      }
      out.push({ table, rows });
    }
  });
  return out;
}

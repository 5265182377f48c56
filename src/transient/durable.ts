import { type Kysely, sql } from "kysely";
import type { StateHandle } from "../state/open-state.js";
import type { StateDatabase } from "../state/schema.js";

/**
 * Runs `fn` so that its commit survives power loss, not only a process crash.
 * lethe's SQLite state runs WAL with synchronous=NORMAL (a commit survives
 * kill -9 but may be lost with the machine); events are acknowledged as
 * durably stored, so their commit runs with FULL (WAL fsync'd per commit).
 * The connection is held for the whole call, so no other commit is slowed by
 * the switch. PostgreSQL commits are durable already (synchronous_commit=on).
 *
 * @example
 * await durably(state, (db) => db.transaction().execute(insertEvent));
 */
export async function durably<T>(state: StateHandle, fn: (db: Kysely<StateDatabase>) => Promise<T>): Promise<T> {
  if (state.dialect.name !== "sqlite") return fn(state.db);
  return state.db.connection().execute(async (conn) => {
    await sql`pragma synchronous = FULL`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`pragma synchronous = NORMAL`.execute(conn);
    }
  });
}

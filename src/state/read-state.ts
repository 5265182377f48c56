import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { LetheConfig } from "../config/types.js";
import { cachedStatements } from "../core/cached-statements.js";
import type { StateDatabase } from "./schema.js";

export interface StateReader {
  db: Kysely<StateDatabase>;
  close(): Promise<void>;
}

/**
 * A read connection of its own to lethe's state, for work off the main
 * thread (ledger verification in a worker): SQLite opened read-only (no
 * migrations, no guards, nothing it could write), PostgreSQL through a pool
 * of one connection. The state must already exist.
 *
 * @example
 * const r = await openStateReader(config.state); try { … } finally { await r.close(); }
 */
export async function openStateReader(state: LetheConfig["state"]): Promise<StateReader> {
  if (state.kind === "postgres") {
    const [{ default: pg }, { PostgresDialect }, { statePoolConfig }] = await Promise.all([
      import("pg"),
      import("kysely"),
      import("./pg-state-schema.js"),
    ]);
    await import("./pg-int8.js");
    const pool = new pg.Pool(statePoolConfig(state.url, { max: 1 }));
    pool.on("error", () => undefined);
    pool.on("connect", (c) => {
      c.on("error", () => undefined);
      // Nothing this connection does may write, whatever the code above it asks.
      c.query("set session characteristics as transaction read only").catch(() => undefined);
    });
    const db = new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool }) });
    return { db, close: () => db.destroy() };
  }
  const raw = new Database(join(state.dir, "state.db"), { readonly: true, fileMustExist: true });
  raw.pragma("busy_timeout = 10000");
  // A whole-ledger pass reads every page once: a larger cache and memory-mapped reads.
  raw.pragma("cache_size = -65536");
  raw.pragma("mmap_size = 268435456");
  const db = new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: cachedStatements(raw) }) });
  return { db, close: () => db.destroy() };
}

import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { LetheConfig } from "../config/types.js";
import type { StateHandle } from "./open-state.js";
import { statePoolConfig } from "./pg-state-schema.js";
import type { StateDatabase } from "./schema.js";

/**
 * A connection of its own for the scheduler lease, so renewing it never
 * queues behind whatever holds the shared pool (long reads, batch
 * transactions, a burst of event acknowledgements). On PostgreSQL that is a
 * one-connection pool whose statements time out after `timeoutMs` (a renewal
 * that cannot finish in time is a failed renewal, not a stalled heartbeat).
 * SQLite keeps the main handle: its statements run one at a time on the
 * event loop anyway, and a second connection would have to busy-wait
 * synchronously for the write lock the first one holds.
 *
 * @example
 * const leaseState = openLeaseConnection(config.state, lethe.state, 5000);
 */
export function openLeaseConnection(config: LetheConfig["state"], main: StateHandle, timeoutMs: number): StateHandle {
  if (config.kind !== "postgres") return { ...main, close: async () => undefined };
  const pool = new pg.Pool(
    statePoolConfig(config.url, { max: 1, statement_timeout: timeoutMs, connectionTimeoutMillis: timeoutMs }),
  );
  pool.on("error", () => undefined);
  const db = new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: main.dialect, close: () => db.destroy() };
}

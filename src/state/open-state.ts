import { join } from "node:path";
import { type Kysely, Migrator } from "kysely";
import type { LetheConfig } from "../config/types.js";
import { isLetheError, LetheError } from "../core/errors.js";
import type { StateDialect } from "./dialect.js";
import { refuseMigrationGaps } from "./migration-record.js";
import { migrationProvider } from "./migrations/index.js";
import type { StateDatabase } from "./schema.js";
import { openSqliteState } from "./sqlite-state.js";
import { corruptStateFile, refuseDamagedState } from "./state-integrity.js";

export interface StateHandle {
  db: Kysely<StateDatabase>;
  dialect: StateDialect;
  /** Migrations this open applied (an upgrade step may need keys the migration itself cannot hold). */
  migrated?: readonly string[];
  /**
   * Where the state lives, spelled as a store URL (`postgres://…` or
   * `sqlite:PATH/state.db`): the executor compares it with a dataset's
   * database to delete and record in one transaction (core/same-database.ts).
   */
  location?: string;
  close(): Promise<void>;
}

/**
 * The state database as a store URL (`postgres://…` or `sqlite:<dir>/state.db`), to compare with stores' URLs.
 *
 * @example
 * stateLocation({ kind: "sqlite", dir: "/srv/.lethe" }); // "sqlite:/srv/.lethe/state.db"
 */
export function stateLocation(state: LetheConfig["state"]): string {
  return state.kind === "postgres" ? state.url : `sqlite:${join(state.dir, "state.db")}`;
}

/**
 * Opens lethe's own state and applies pending numbered migrations.
 *
 * @example
 * const state = await openState(config.state);
 */
export async function openState(
  state: LetheConfig["state"],
  /** Where a loosened state folder is reported (SQLite state only). */
  warn?: (msg: string) => void,
): Promise<StateHandle> {
  // The pg client is loaded only for PostgreSQL state: it costs every CLI start that does not need it.
  const { db, dialect } =
    state.kind === "postgres"
      ? (await import("./postgres-state.js")).openPostgresState(state.url)
      : openSqliteState(state.dir, warn);
  let migrated: string[] = [];
  try {
    await dialect.prepare?.(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw cannotOpen(state, err);
  }
  try {
    await refuseMigrationGaps(db, Object.keys(await migrationProvider.getMigrations()));
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw corruptStateFile(err) ?? err;
  }
  try {
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      migrationTableName: "lethe_migrations",
      migrationLockTableName: "lethe_migrations_lock",
      ...(dialect.schema ? { migrationTableSchema: dialect.schema } : {}),
      allowUnorderedMigrations: true,
      // Kysely's default localeCompare builds an ICU collator: ~200 ms on every CLI start.
      nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    migrated = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    // A dropped table or a deleted/garbled head is refused here, coded, before any command touches it.
    await refuseDamagedState(db, dialect);
    await dialect.installLedgerGuards(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw corruptStateFile(err) ?? cannotOpen(state, err);
  }
  return {
    db,
    dialect,
    migrated,
    location: stateLocation(state),
    async close() {
      await dialect.scrub(db).catch(() => undefined);
      await dialect.close();
      await db.destroy();
    },
  };
}

/** An open that failed for a reason lethe did not code itself, as a coded STATE_ERROR. */
function cannotOpen(state: LetheConfig["state"], err: unknown): LetheError {
  if (isLetheError(err)) return err;
  return new LetheError(
    "STATE_ERROR",
    `cannot open lethe state (${state.kind}): ${(err as Error).message}`,
    undefined,
    {
      cause: err,
    },
  );
}

import type { Kysely } from "kysely";
import type { StateHandle } from "../state/open-state.js";
import type { StateDatabase } from "../state/schema.js";

/**
 * Runs `fn` so that its commit survives power loss, not only a process crash:
 * events are acknowledged as durably stored. How is the state dialect's
 * business (see `StateDialect.durably`).
 *
 * @example
 * await durably(state, (db) => db.transaction().execute(insertEvent));
 */
export function durably<T>(state: StateHandle, fn: (db: Kysely<StateDatabase>) => Promise<T>): Promise<T> {
  return state.dialect.durably(state.db, fn);
}

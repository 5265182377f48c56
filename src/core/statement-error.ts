import { isLetheError } from "./errors.js";

/**
 * Did the database itself reject the statement? Then it did not happen (an
 * auto-committed statement that fails is rolled back) and retrying it row by
 * row is safe. Anything else — a reset connection, a lost reply, a timeout —
 * may have come after the statement committed: its outcome is unknown and
 * must be reconciled (which keys still exist?), never assumed.
 *
 * PostgreSQL reports a five-character SQLSTATE `code` (pg's DatabaseError),
 * MySQL/MariaDB a `sqlState`, SQLite (in process, so never unknown) a
 * SqliteError.
 *
 * @example
 * if (!rejectedByDatabase(err)) return { deleted: [], failed: [], unknown: items };
 */
export function rejectedByDatabase(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; sqlState?: unknown; severity?: unknown };
  if (e.name === "SqliteError") return true;
  if (typeof e.sqlState === "string" && /^[0-9A-Z]{5}$/.test(e.sqlState)) return true;
  return typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === "string";
}

/**
 * Was a statement (or its COMMIT) sent and its reply lost? Anything that is
 * not the database's own refusal, not lethe's coded error and not a bug in
 * lethe (a TypeError and its kin): a reset connection, a client that
 * "encountered a connection error", a timeout. What the statement did is then
 * unknown and is settled later, never assumed.
 *
 * @example
 * if (replyLost(err)) countFailure(ledger, counts, item, LOST, undefined, "OUTCOME_UNKNOWN");
 */
export function replyLost(err: unknown): boolean {
  if (rejectedByDatabase(err)) return false;
  if (typeof err !== "object" || err === null || isLetheError(err)) return false;
  return !(
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}

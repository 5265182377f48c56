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

const ERRNO = /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;
const CLIENT_TEXT: [RegExp, string][] = [
  [/^Connection terminated/i, "connection terminated"],
  [/encountered a connection error/i, "connection error"],
  [/^Connection lost|closed the connection/i, "connection lost"],
  [/^Socket closed|ClientClosed|The client is closed/i, "socket closed"],
];

/**
 * A database or Redis connection that dropped or could not be made, as a
 * short label with nothing of the server's text (errno code, or what the
 * client library said happened); undefined for any other error.
 *
 * @example
 * connectionFailure(err); // "ECONNREFUSED" | "connection terminated" | undefined
 */
export function connectionFailure(err: unknown): string | undefined {
  if (!replyLost(err)) return undefined;
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof e.code === "string" && ERRNO.test(e.code)) return e.code;
  const text = `${typeof e.name === "string" ? e.name : ""} ${typeof e.message === "string" ? e.message : ""}`.trim();
  for (const [re, label] of CLIENT_TEXT) if (re.test(text) || re.test(String(e.message ?? ""))) return label;
  return undefined;
}

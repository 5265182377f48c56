import { safeReason } from "./safe-reason.js";

// errno codes (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…) and MySQL's ER_… codes, as drivers put them in messages.
const CODE_IN_TEXT = /\b(E[A-Z]{3,}|ER_[A-Z_]+)\b/;
const CODE = /^[A-Z0-9_]{3,40}$/;
/** lethe's own wrappers: the cause says more. */
const GENERIC = new Set(["STORE_ERROR", "INTERNAL"]);

/**
 * Why a store failed, as a code fit for any output (a notification, a JSON
 * report): the driver's or the system's error code when there is one
 * (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`, PostgreSQL's `28P01`),
 * `UNREACHABLE` otherwise. Never the message, which may name a host, a user
 * or a table.
 *
 * @example
 * storeErrorCode("stores.cache: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:1"); // "ECONNREFUSED"
 */
export function storeErrorCode(err: unknown): string {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CODE.test(code) && !GENERIC.has(code)) return code;
  }
  const text = typeof err === "string" ? err : safeReason(err);
  return CODE_IN_TEXT.exec(text)?.[1] ?? "UNREACHABLE";
}

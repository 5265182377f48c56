import type { ErrorCode } from "../core/errors.js";

/**
 * The one mapping from error codes to HTTP statuses (DESIGN.md "HTTP API"):
 * 400 invalid or unknown fields, 401 missing/invalid token, 403 missing
 * scope, 404, 409 refused by policy or state, 413 body too large.
 * Typed as a full record so a new error code cannot ship unmapped.
 *
 * @example
 * reply.code(HTTP_STATUS[err.code]).send({ error: { code: err.code, message: err.message } });
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  USAGE: 400,
  NOT_FOUND: 404,
  VALIDATION: 400,
  SAFETY_LIMIT: 409,
  HOLD_ACTIVE: 409,
  STALE_PLAN: 409,
  CONFLICT: 409,
  PARTIAL_FAILURE: 500,
  AUDIT_FAILED: 500,
  STORE_ERROR: 502,
  OUTCOME_UNKNOWN: 502,
  STATE_ERROR: 503,
  CRYPTO_ERROR: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  TIMEOUT: 504,
  INTERNAL: 500,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  RATE_LIMITED: 429,
};

/** The HTTP status for an error code. */
export function httpStatus(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

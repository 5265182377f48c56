import type { ErrorCode } from "../core/errors.js";

/**
 * The one mapping from error codes to process exit codes (DESIGN.md):
 * 0 done; 1 some items failed; 2 usage/config, nothing touched;
 * 3 refused (safety limit, hold, stale plan); 4 audit verification failed.
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  CONFIG_INVALID: 2,
  USAGE: 2,
  NOT_FOUND: 2,
  VALIDATION: 2,
  SAFETY_LIMIT: 3,
  HOLD_ACTIVE: 3,
  STALE_PLAN: 3,
  CONFLICT: 3,
  PARTIAL_FAILURE: 1,
  AUDIT_FAILED: 4,
  STORE_ERROR: 1,
  OUTCOME_UNKNOWN: 1,
  STATE_ERROR: 1,
  CRYPTO_ERROR: 1,
  UNAUTHORIZED: 2,
  FORBIDDEN: 2,
  PAYLOAD_TOO_LARGE: 2,
  TIMEOUT: 1,
  INTERNAL: 1,
  UNSUPPORTED_MEDIA_TYPE: 2,
  UNAVAILABLE: 1,
  RATE_LIMITED: 1,
};

/**
 * One error hierarchy for all of lethe. Every error carries a stable `code`
 * from {@link ERROR_CODES}; the CLI maps codes to exit codes in
 * `cli/exit-codes.ts` and the HTTP server maps them to statuses in
 * `server/http-status.ts`, each in exactly one place.
 *
 * @example
 * throw new LetheError("CONFIG_INVALID", "datasets.logs.retention: expected a duration like 30d");
 */
export const ERROR_CODES = {
  CONFIG_INVALID: "the configuration is invalid; nothing was touched",
  USAGE: "the command was called wrongly",
  NOT_FOUND: "the thing named does not exist",
  VALIDATION: "a request or input value is invalid",
  SAFETY_LIMIT: "the run would delete more than the safety limit allows",
  HOLD_ACTIVE: "an active legal hold kept items back",
  STALE_PLAN: "the plan no longer matches the policy or data",
  PARTIAL_FAILURE: "some items failed; the rest were done",
  AUDIT_FAILED: "ledger verification failed, or lethe's state or ledger is corrupt or was tampered with",
  STORE_ERROR: "a store could not be reached or answered with an error",
  OUTCOME_UNKNOWN: "a delete was sent and its reply lost: whether it happened is settled by the next run",
  STATE_ERROR: "lethe's own state could not be read or written",
  CRYPTO_ERROR: "a cryptographic operation failed (bad key, tampered data)",
  UNAUTHORIZED: "missing or invalid token",
  FORBIDDEN: "the token lacks the scope needed",
  PAYLOAD_TOO_LARGE: "the request body is too large",
  CONFLICT: "the request conflicts with the current state",
  TIMEOUT: "the operation ran out of time",
  INTERNAL: "an unexpected internal error",
  UNSUPPORTED_MEDIA_TYPE: "the request body is not in a supported format (send application/json)",
  UNAVAILABLE: "the service is starting or shutting down; retry shortly",
  RATE_LIMITED: "too many requests for this token; retry after the time given",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error type lethe throws on purpose: a code from {@link ERROR_CODES} (mapped to exit codes and HTTP
 * statuses in one place each), a message naming what is wrong, and optional details.
 *
 * @example
 * throw new LetheError("USAGE", "--limit: expected a positive integer, got abc");
 * if (isLetheError(err) && err.code === "NOT_FOUND") return undefined;
 */
export class LetheError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LetheError";
    this.code = code;
    this.details = details;
  }
}

/**
 * Config errors carry every problem found, each naming its key path.
 *
 * @example
 * try { loadConfigFile(); } catch (err) { if (err instanceof ConfigError) console.error(err.issues.join("\n")); }
 */
export class ConfigError extends LetheError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super("CONFIG_INVALID", issues.join("\n"), { issues });
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function isLetheError(err: unknown): err is LetheError {
  return err instanceof LetheError;
}

/** Wraps anything thrown into a LetheError without losing the cause. */
export function toLetheError(err: unknown, code: ErrorCode = "INTERNAL"): LetheError {
  if (err instanceof LetheError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LetheError(code, message, undefined, { cause: err });
}

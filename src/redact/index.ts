/**
 * `lethe/redact`: keep personal data out of logs.
 *
 * @example
 * import { createLogger, redact, scanLogs } from "lethe/redact";
 * const log = createLogger();
 * log.info({ user: "jane@example.com" }, "signed in"); // "user":"[EMAIL]"
 * redact(new Map([["token", "abc"]]));                // Map { "token" => "[REDACTED]" }
 * await scanLogs("/var/log/app", { redact: true });
 */
export { type CreateLoggerOptions, createLogger } from "./logger.js";
export { MARKERS } from "./markers.js";
export { maskExcerpt } from "./mask.js";
export type { WalkLimits } from "./redact-value.js";
export { createRedactor, type RedactOptions, type Redactor, redact } from "./redactor.js";
export {
  type LogFinding,
  redactedName,
  type ScanLogsOptions,
  type ScanLogsResult,
  type ScannedFile,
  scanLogs,
} from "./scan-logs.js";
export { createKeyMatcher, DEFAULT_SENSITIVE_KEYS, type KeyMatcher, normalizeKey } from "./sensitive-keys.js";
export { createTextScanner, type TextScanner } from "./text-scanner.js";
export { BUILTIN_TYPES, type BuiltinType, type CustomPattern, type ScannerOptions, type Span } from "./types.js";
export { ibanValid, luhnValid } from "./validators.js";

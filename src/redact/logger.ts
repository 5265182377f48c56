import { types } from "node:util";
import pino from "pino";
import { jsonText } from "../core/terminal-text.js";
import { formatMessage } from "./format-message.js";
import { MARKERS } from "./markers.js";
import { createRedactor, type Redactor } from "./redactor.js";
import type { CustomPattern } from "./types.js";

export interface CreateLoggerOptions {
  /** pino level name (default `info`). */
  level?: string;
  /** Where JSON lines go: a stream, or a file descriptor (default 2, stderr). */
  destination?: NodeJS.WritableStream | number;
  /** Extra detectors, usually `config.redact.patterns`. */
  patterns?: CustomPattern[];
  /** Extra sensitive key names, usually `config.redact.keys`. */
  keys?: string[];
}

/**
 * A pino logger that cannot write personal data. Redaction happens in
 * layers, each failing closed:
 * 1. `hooks.logMethod` copies the merge object through the redacting walker
 *    (sensitive keys replaced whole, Errors with causes, Maps and Sets made
 *    plain, cycles, throwing getters, Proxies and huge strings dropped) and
 *    formats the message itself, so nothing is interpolated later;
 * 2. `formatters.log` does the same for any object that did not come
 *    through (1);
 * 3. `hooks.streamWrite` scans each finished JSON line for personal data in
 *    string contents: values, keys, `msg`, stacks, child bindings. One scan
 *    of the line is cheaper than scanning every value, and it also sees
 *    what interpolation builds (`"%s@%s"`) and anything pino adds itself;
 *    then every control character JSON leaves raw (DEL, C1, bidi overrides)
 *    is written as a `\u` escape, so the line parses to the same values
 *    but cannot drive the terminal it is read on.
 *
 * @example
 * const log = createLogger({ level: "debug" });
 * log.info({ user: "jane@example.com", password: "x" }, "signed in from %s", "10.1.2.3");
 * // {"level":30,…,"user":"[EMAIL]","password":"[REDACTED]","msg":"signed in from [IP]"}
 */
export function createLogger(opts: CreateLoggerOptions = {}): pino.Logger {
  const redactor = createRedactor({ keys: opts.keys, patterns: opts.patterns, plain: true, scanStrings: false });
  const clean = new WeakSet<object>();
  const safeObject = (value: unknown): Record<string, unknown> => {
    const r = redactor.redact(value);
    const obj =
      typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r };
    clean.add(obj);
    return obj;
  };
  const safeArgs = (args: readonly unknown[]): unknown[] => {
    const [first, ...rest] = args;
    if (typeof first === "object") {
      const isError = first !== null && (types.isNativeError(first) || first instanceof Error);
      const obj = safeObject(isError ? { err: first } : (first ?? {}));
      return rest.length > 0 ? [obj, safeMessage(redactor, rest[0], rest.slice(1))] : [obj];
    }
    return [safeMessage(redactor, first, rest)];
  };

  const destination =
    opts.destination === undefined || typeof opts.destination === "number"
      ? pino.destination({ dest: opts.destination ?? 2, sync: true })
      : opts.destination;
  const logger = pino(
    {
      level: opts.level ?? "info",
      // Errors arrive already serialised and redacted by layer 1 or 2.
      serializers: { err: (e: unknown) => e },
      hooks: {
        logMethod(args, method) {
          let safe: unknown[];
          try {
            safe = safeArgs(args);
          } catch {
            safe = [MARKERS.failed];
          }
          (method as (...a: unknown[]) => void).apply(this, safe);
        },
        streamWrite(line) {
          try {
            // JSON already escapes C0 controls; jsonText escapes the rest a terminal acts on (C1, DEL, bidi), so a
            // URL or store name in a field cannot drive the terminal or journal a log is read on.
            return jsonText(redactor.redactText(line));
          } catch {
            return `{"msg":"${MARKERS.failed}"}\n`;
          }
        },
      },
      formatters: { log: (obj) => (clean.has(obj) ? obj : safeObject(obj)) },
    },
    destination as pino.DestinationStream,
  );
  guardChildren(logger, safeObject);
  return logger;
}

/** Same limit as for strings inside objects: a huge message is dropped, not scanned and written. */
const MAX_MESSAGE = 1024 * 1024;

/** The message after interpolation of walked arguments; its contents are scanned in the line. */
function safeMessage(redactor: Redactor, msg: unknown, params: readonly unknown[]): unknown {
  if (msg === undefined) return undefined;
  if (typeof msg === "number" || typeof msg === "boolean") return msg;
  if (typeof msg !== "string") return formatMessage("%j", [redactor.redact(msg)]);
  const args = params.map((p) => redactor.redact(p));
  const text = args.length > 0 ? formatMessage(msg, args) : msg;
  return text.length > MAX_MESSAGE ? MARKERS.tooLarge : text;
}

/**
 * pino serialises child bindings once, at `child()`, outside the object
 * hooks, so bindings go through the walker on the way in (sensitive keys,
 * hostile objects); their contents, and `msgPrefix`, are scanned in each line.
 * Grandchildren inherit the wrapper through the prototype chain.
 */
function guardChildren(logger: pino.Logger, safeObject: (v: unknown) => Record<string, unknown>): void {
  const child = logger.child as unknown as (
    this: pino.Logger,
    b: pino.Bindings,
    o?: pino.ChildLoggerOptions,
  ) => pino.Logger;
  const setBindings = logger.setBindings;
  Object.defineProperty(logger, "child", {
    configurable: true,
    writable: true,
    value(this: pino.Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): pino.Logger {
      const safe = options ? { ...options } : undefined;
      const userLog = safe?.formatters?.log;
      if (safe?.formatters && userLog) {
        safe.formatters = { ...safe.formatters, log: (o: object) => safeObject(userLog(o)) };
      }
      return child.call(this, safeObject(bindings), safe);
    },
  });
  Object.defineProperty(logger, "setBindings", {
    configurable: true,
    writable: true,
    value(this: pino.Logger, bindings: pino.Bindings): void {
      setBindings.call(this, safeObject(bindings));
    },
  });
}

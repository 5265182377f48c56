import { connectionFailure } from "./statement-error.js";

/**
 * An error as a reason fit for the ledger and lethe's state. Node's system
 * errors name the path they failed on ("EPERM: operation not permitted,
 * unlink '/data/users/jane@example.com/x.bin'"), and a path may hold a
 * subject id: keep the code, the call and the explanation, drop the path.
 *
 * @example
 * safeReason(err); // "EPERM (unlink): operation not permitted"
 */
export function safeReason(err: unknown, max = 200): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e.code === "string" && typeof e.syscall === "string") {
    const text = (e.message ?? "").split(",")[0]?.replace(/^[A-Z0-9_]+:\s*/, "") ?? "";
    return `${e.code} (${e.syscall}): ${text}`.slice(0, max);
  }
  const msg = err instanceof Error ? err.message : String(err);
  // Anything quoted that looks like a path is dropped too.
  return msg
    .replace(/'[^'\n]*[\\/][^'\n]*'/g, "'…'")
    .replace(/"[^"\n]*[\\/][^"\n]*"/g, '"…"')
    .slice(0, max);
}

/** SQLSTATE classes (the first two characters) as their standard names: a stable, value-free explanation. */
const SQLSTATE_CLASS: Record<string, string> = {
  "08": "connection exception",
  "0A": "feature not supported",
  "22": "data exception",
  "23": "integrity constraint violation",
  "25": "invalid transaction state",
  "28": "invalid authorization",
  "40": "transaction rollback",
  "42": "syntax error or access rule violation",
  "53": "insufficient resources",
  "54": "program limit exceeded",
  "55": "object not in prerequisite state",
  "57": "operator intervention",
  "58": "system error",
  P0: "raised by a trigger or function",
  XX: "internal error",
};

/**
 * An error as a coded, stable reason with nothing of its message: the SQLSTATE (with its class's name) a
 * database answered, or the errno code of a system error, or the error's class name. For steps whose
 * failure text may quote a row or a key (a trigger's RAISE, a constraint's detail) and ends up on the ledger
 * or in a log: what happened is named by the code, the words stay with the database's own log.
 *
 * @example
 * codedReason(pgError); // "SQLSTATE P0001, raised by a trigger or function"
 * codedReason(resetError); // "ECONNRESET (read)"
 */
export function codedReason(err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    code?: unknown;
    sqlState?: unknown;
    severity?: unknown;
    syscall?: unknown;
    name?: unknown;
  };
  const state =
    typeof e.sqlState === "string"
      ? e.sqlState
      : typeof e.code === "string" && typeof e.severity === "string"
        ? e.code
        : undefined;
  if (state !== undefined && /^[0-9A-Z]{5}$/.test(state)) {
    const cls = SQLSTATE_CLASS[state.slice(0, 2)];
    return `SQLSTATE ${state}${cls ? `, ${cls}` : ""}`;
  }
  if (typeof e.code === "string" && /^E[A-Z0-9_]{1,30}$/.test(e.code))
    return `${e.code}${typeof e.syscall === "string" && /^\w{1,30}$/.test(e.syscall) ? ` (${e.syscall})` : ""}`;
  // A dropped connection without an errno (the client's own words): its label, as the run's error says it.
  const lost = connectionFailure(err);
  if (lost !== undefined) return lost;
  const name = typeof e.name === "string" && /^\w{1,40}$/.test(e.name) ? e.name : "Error";
  return `${name}, no error code`;
}

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

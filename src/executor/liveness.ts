import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who owns a claim or a run, so another process can tell whether the owner
 * is still alive: host, boot id (`/proc/sys/kernel/random/boot_id`), pid and
 * the process's start time (`/proc/<pid>/stat` field 22, so a recycled pid
 * is not taken for the owner). Stored as JSON text beside the claim or run.
 */
export interface Owner {
  host: string;
  boot: string;
  pid: number;
  start: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

/** Clock ticks since boot at which `pid` started ("" when unknown: not Linux, or the process is gone). */
function startTime(pid: number): string {
  const stat = readOr(`/proc/${pid}/stat`, "");
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return rest[19] ?? "";
}

let self: string | undefined;

/**
 * This process as an owner (JSON text, computed once).
 *
 * @example
 * await db.updateTable("runs").set({ owner: selfOwner() }).execute();
 */
export function selfOwner(): string {
  self ??= JSON.stringify({
    host: hostname(),
    boot: readOr("/proc/sys/kernel/random/boot_id", ""),
    pid: process.pid,
    start: startTime(process.pid),
  } satisfies Owner);
  return self;
}

function parse(owner: string): Owner | undefined {
  try {
    const o = JSON.parse(owner) as Partial<Owner>;
    return typeof o.host === "string" && typeof o.pid === "number" && o.pid > 0 ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True only when the owner is provably gone: it ran on this host and the
 * machine rebooted since, or its pid no longer exists, or that pid is now
 * another process. An owner on another host (or unreadable) is never
 * declared dead here: its lease or lock expiry decides.
 *
 * @example
 * if (ownerIsDead(row.owner)) await executor.closeRun(row.id, "crashed", "its process is gone");
 */
export function ownerIsDead(owner: string | null | undefined): boolean {
  if (!owner || owner === selfOwner()) return false;
  const o = parse(owner);
  const me = parse(selfOwner()) as Owner;
  if (!o || o.host !== me.host) return false;
  if (o.boot !== "" && me.boot !== "" && o.boot !== me.boot) return true;
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return true;
  }
  const now = startTime(o.pid);
  return o.start !== "" && now !== "" && now !== o.start;
}

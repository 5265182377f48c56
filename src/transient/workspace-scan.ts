import { lstat, readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import type { LeaseRow } from "./leases.js";
import type { WorkspaceRef } from "./workspace-dir.js";
import type { TransientService } from "./workspace-manager.js";
import { shredWorkspace } from "./workspace-shred.js";

/**
 * The janitor's view of workspaces: directories under this deployment's
 * namespace without an open lease, leases past expiry + grace, and leases
 * whose owning process on this host is gone (a crash or SIGKILL: its
 * directory holds ciphertext whose key died with the process).
 *
 * @example
 * for (const f of (await scanWorkspaces(svc, new Date(), 3600)).findings) await fixWorkspace(svc, f);
 */
export type WorkspaceFindingKind = "workspace_orphaned" | "lease_expired" | "lease_abandoned" | "workspace_foreign";

export interface WorkspaceFinding {
  kind: WorkspaceFindingKind;
  id: string;
  path: string;
  /** Seconds past the lease expiry, or since the directory last changed. */
  age: number;
  plaintext?: boolean;
  lease?: LeaseRow;
}

const WS_NAME = /^ws_[0-9a-f]{32}$/;
/** A foreign namespace's workspace untouched this long is reported (never removed: it may be another deployment's). */
const FOREIGN_AFTER_S = 86_400;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function wsDirs(dir: string): Promise<{ name: string; path: string; mtimeMs: number }[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const out: { name: string; path: string; mtimeMs: number }[] = [];
  for (const name of names) {
    // Only `ws_<128-bit hex>` is lethe's: anything else (ws_zz, ws_….moved) is someone else's and ignored.
    if (!WS_NAME.test(name)) continue;
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) out.push({ name, path: join(dir, name), mtimeMs: st.mtimeMs });
  }
  return out;
}

export interface WorkspaceScan {
  findings: WorkspaceFinding[];
  /**
   * Why the transient root or the namespace could not be used (e.g. a link or another user's directory
   * squatting /dev/shm/lethe): directories were not checked, leases still were.
   */
  unavailable?: unknown;
}

export async function scanWorkspaces(svc: TransientService, now: Date, graceSeconds: number): Promise<WorkspaceScan> {
  const nowMs = now.getTime();
  // Only the root and namespace access is allowed to fail here: a state failure or a bug propagates.
  await svc.namespaceName();
  let ns: string | undefined;
  let dirs: Awaited<ReturnType<typeof wsDirs>> = [];
  let unavailable: unknown;
  try {
    ns = await svc.namespaceDir();
    // Directories first, leases second: a lease is committed before its directory exists, so any
    // directory seen here already has its lease unless it is being removed right now (re-checked below).
    dirs = await wsDirs(ns);
  } catch (err) {
    unavailable = err;
  }
  const leases = await svc.leases.list();
  const byId = new Map(leases.map((l) => [l.id, l]));
  const host = hostname();
  const out: WorkspaceFinding[] = [];
  for (const l of leases) {
    const pastMs = nowMs - Date.parse(l.expiresAt);
    const base = { id: l.id, path: l.dir, plaintext: l.plaintext, lease: l };
    if (pastMs > graceSeconds * 1000) out.push({ ...base, kind: "lease_expired", age: Math.round(pastMs / 1000) });
    else if (l.host === host && (l.pid === process.pid ? !svc.isActive(l.id) : !alive(l.pid)))
      out.push({
        ...base,
        kind: "lease_abandoned",
        age: Math.max(0, Math.round((nowMs - Date.parse(l.openedAt)) / 1000)),
      });
  }
  for (const d of dirs) {
    if (byId.has(d.name)) continue;
    const still = await lstat(d.path).catch(() => undefined);
    if (!still) continue;
    out.push({
      kind: "workspace_orphaned",
      id: d.name,
      path: d.path,
      age: Math.max(0, Math.round((nowMs - d.mtimeMs) / 1000)),
    });
  }
  for (const name of ns === undefined ? [] : await readdir(svc.root).catch(() => [] as string[])) {
    const other = join(svc.root, name);
    if (other === ns || !(await lstat(other).catch(() => undefined))?.isDirectory()) continue;
    for (const d of await wsDirs(other)) {
      const age = Math.round((nowMs - d.mtimeMs) / 1000);
      if (age > FOREIGN_AFTER_S + graceSeconds) out.push({ kind: "workspace_foreign", id: d.name, path: d.path, age });
    }
  }
  return unavailable === undefined ? { findings: out } : { findings: out, unavailable };
}

/**
 * The finding's workspace by names from its root. In the current namespace the namespace must still be the
 * directory this service opened; a lease from an earlier root is reached from that root, still without
 * following a link below it.
 */
async function refOf(svc: TransientService, f: WorkspaceFinding): Promise<WorkspaceRef> {
  const ns = await svc.namespace();
  const nsDir = dirname(f.path);
  if (nsDir === ns.dir) return svc.workspaceRef(f.id);
  return { root: dirname(nsDir), namespace: basename(nsDir), id: f.id };
}

/**
 * Shreds and removes what a finding points at and closes its lease (with a
 * `workspace_closed` entry). Only `ws_<128-bit hex>` directories are ever
 * touched; foreign namespaces are only reported.
 */
export async function fixWorkspace(
  svc: TransientService,
  f: WorkspaceFinding,
): Promise<{ fixed: boolean; reason?: string }> {
  if (f.kind === "workspace_foreign")
    return { fixed: false, reason: "another deployment's namespace: reported, not removed" };
  if (!WS_NAME.test(basename(f.path)) || basename(f.path) !== f.id)
    return { fixed: false, reason: "not a lethe workspace path; left alone" };
  let ref: WorkspaceRef;
  try {
    ref = await refOf(svc, f);
  } catch (err) {
    // The root or namespace is unusable (reported as workspaces_unavailable): the lease stays for a later pass.
    const code = (err as { code?: string }).code ?? "EUNKNOWN";
    return { fixed: false, reason: `the transient root or namespace cannot be used (${code}); left for a later pass` };
  }
  const r = await shredWorkspace(ref, await svc.memoryBacked());
  if (!r.removed) return { fixed: false, reason: r.errors.slice(0, 3).join("; ") };
  await svc.leases.close({
    id: f.id,
    requestHash: f.lease?.requestHash,
    reason: "janitor",
    data: {
      outcome: "janitor",
      finding: f.kind,
      files: r.files,
      bytes: r.bytes,
      plaintext: f.plaintext ?? false,
      unshredded: r.unshredded.length,
    },
  });
  return { fixed: true };
}

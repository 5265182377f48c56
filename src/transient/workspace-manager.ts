import { randomBytes, randomFillSync } from "node:crypto";
import { closeSync, fstatSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { parseDurationMs } from "../config/duration.js";
import type { LetheConfig } from "../config/types.js";
import { LetheError } from "../core/errors.js";
import type { Executor } from "../executor/executor.js";
import { type Identity, identityOf } from "../safe-fs/identity.js";
import type { StateHandle } from "../state/open-state.js";
import { getOrCreateSecret } from "../state/secret-store.js";
import { ioError } from "./file-io.js";
import { Leases } from "./leases.js";
import { defaultTransientRoot, ensurePrivateDir, isMemoryBacked } from "./root.js";
import { Workspace } from "./workspace.js";
import { createWorkspaceDir, openNamespace, type WorkspaceDir, type WorkspaceRef } from "./workspace-dir.js";
import { shredWorkspace } from "./workspace-shred.js";

export interface TransientOptions {
  /** A duration like "5m", or milliseconds; default `transient.ttl`. */
  ttl?: string | number;
  /** Plaintext bytes per sealed chunk (default 64 KiB). */
  chunkSize?: number;
}

export type TransientFn<T> = (ws: Workspace, signal: AbortSignal) => Promise<T> | T;

export interface TransientDeps {
  config: LetheConfig;
  state: StateHandle;
  ledger: Executor;
  masterKey: Buffer;
  logger: { warn(msg: string): void };
}

/** Longest ttl a Node timer can hold (about 24.8 days). */
const MAX_TTL_MS = 2 ** 31 - 1;
export const WORKSPACE_PREFIX = "ws_";
/** Shared by every instance in the process, so one instance's janitor never mistakes another's live workspace for abandoned. */
const RUNNING_IN_PROCESS = new Set<string>();
/** statfs magic numbers of memory-backed filesystems: tmpfs, ramfs. */
const MEMORY_FS = new Set([0x01021994, 0x858458f6]);

function ttlMs(ttl: TransientOptions["ttl"], fallbackSeconds: number): number {
  if (ttl === undefined) return fallbackSeconds * 1000;
  const ms = typeof ttl === "number" ? ttl : (parseDurationMs(ttl) ?? Number.NaN);
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TTL_MS)
    throw new LetheError(
      "VALIDATION",
      `ttl: expected a duration like 5m or 500ms (or a number of milliseconds), at most 24d; got ${String(ttl)}`,
    );
  return Math.ceil(ms);
}

/**
 * Runs callbacks in per-request workspaces. Each call gets its own directory
 * (mode 0700, 128-bit random name) and its own in-memory key; two calls with
 * the same request id get two distinct workspaces, never a shared one.
 *
 * @example
 * const svc = new TransientService({ config, state, ledger, masterKey, logger });
 * const n = await svc.run("req-1", async (ws) => (await ws.read("in")).length, { ttl: "1m" });
 */
export class TransientService {
  readonly leases: Leases;
  private ns: Promise<{ dir: string; name: string; identity: Identity }> | undefined;
  private memory: Promise<boolean> | undefined;
  private nsName: Promise<string> | undefined;
  private readonly active = new Map<string, { abort(err: LetheError): void; done: Promise<unknown> }>();

  constructor(private readonly deps: TransientDeps) {
    this.leases = new Leases(deps.state, deps.ledger);
  }

  /** The configured (or default) root. */
  get root(): string {
    return this.deps.config.transient.root ?? defaultTransientRoot();
  }

  /**
   * `<root>/<namespace>`: the namespace is a random id kept in this state, so
   * two lethe deployments sharing a root never judge each other's workspaces.
   */
  async namespaceDir(): Promise<string> {
    return (await this.namespace()).dir;
  }

  /**
   * The namespace's name, from the state alone (no filesystem access): a failure here is the state's, never
   * an unusable root.
   */
  namespaceName(): Promise<string> {
    this.nsName ??= getOrCreateSecret(this.deps.state, this.deps.masterKey, "transient-namespace", () =>
      randomBytes(8),
    ).then(
      (b) => b.toString("hex"),
      (err: unknown) => {
        this.nsName = undefined;
        throw err;
      },
    );
    return this.nsName;
  }

  /** The namespace's name and the directory it was when opened: cleanup refuses any other under that name. */
  namespace(): Promise<{ dir: string; name: string; identity: Identity }> {
    this.ns ??= (async () => {
      const name = await this.namespaceName();
      const dir = join(this.root, name);
      let fd: number;
      try {
        await ensurePrivateDir(this.root);
        await ensurePrivateDir(dir);
        fd = openNamespace(this.root, name);
      } catch (err) {
        throw ioError(err, "opening the workspace namespace");
      }
      try {
        return { dir, name, identity: identityOf(fstatSync(fd)) };
      } finally {
        closeSync(fd);
      }
    })().catch((err: unknown) => {
      this.ns = undefined;
      throw err;
    });
    return this.ns;
  }

  /** How a workspace of this namespace is reached from the root (never by following a path string). */
  async workspaceRef(id: string, wsIdentity?: Identity): Promise<WorkspaceRef> {
    const ns = await this.namespace();
    return { root: this.root, namespace: ns.name, id, nsIdentity: ns.identity, ...(wsIdentity ? { wsIdentity } : {}) };
  }

  /** Whether this process (any lethe instance in it) is running the workspace right now. */
  isActive(id: string): boolean {
    return RUNNING_IN_PROCESS.has(id);
  }

  /** Whether the root is tmpfs/ramfs (decided once, from the filesystem type). */
  memoryBacked(): Promise<boolean> {
    this.memory ??= statfs(this.root).then(
      (st) => MEMORY_FS.has(Number(st.type)) || isMemoryBacked(this.root),
      () => isMemoryBacked(this.root),
    );
    return this.memory;
  }

  /** Workspaces currently running in this process. */
  get running(): number {
    return this.active.size;
  }

  async run<T>(requestId: string, fn: TransientFn<T>, opts: TransientOptions = {}): Promise<T> {
    if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > 512)
      throw new LetheError("VALIDATION", "requestId: expected a non-empty string of at most 512 characters");
    const ms = ttlMs(opts.ttl, this.deps.config.transient.ttlSeconds);
    const ns = await this.namespaceDir();
    const id = `${WORKSPACE_PREFIX}${randomBytes(16).toString("hex")}`;
    const dir = join(ns, id);
    const openedAt = new Date();
    // The lease (and its expiry) is durable before the directory or any byte exists.
    await this.leases.open({ id, requestId, dir, openedAt, expiresAt: new Date(openedAt.getTime() + ms) });

    const ac = new AbortController();
    let ws: Workspace | undefined;
    let home: WorkspaceDir | undefined;
    let outcome = "ok";
    let result: T | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settle: () => void = () => undefined;
    RUNNING_IN_PROCESS.add(id);
    this.active.set(id, { abort: (err) => ac.abort(err), done: new Promise<void>((r) => (settle = r)) });
    try {
      // Made inside the namespace reached without following a link; its identity lets cleanup spot a swap.
      const ref = await this.workspaceRef(id);
      const memoryBacked = await this.memoryBacked();
      try {
        home = createWorkspaceDir(ref);
      } catch (err) {
        throw ioError(err, "creating the workspace directory");
      }
      const key = Buffer.alloc(32);
      randomFillSync(key);
      ws = new Workspace(
        id,
        dir,
        home,
        key,
        ac.signal,
        (name) => this.leases.markPlaintext(id, requestId, name),
        opts.chunkSize,
        memoryBacked,
      );
      const w = ws;
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => reject(ac.signal.reason);
        ac.signal.addEventListener("abort", onAbort, { once: true });
        timer = setTimeout(
          () =>
            ac.abort(new LetheError("TIMEOUT", `transient workspace exceeded its ttl of ${ms} ms; it was shredded`)),
          ms,
        );
      });
      aborted.catch(() => undefined); // rejects on every close; only the race observes it
      const work = Promise.resolve().then(() => fn(w, ac.signal));
      work.catch(() => undefined); // after a timeout its late rejection is expected, not unhandled
      result = await Promise.race([work, aborted]);
      return result;
    } catch (err) {
      outcome = err instanceof LetheError && err.code === "TIMEOUT" ? "timeout" : "error";
      throw err;
    } finally {
      clearTimeout(timer);
      if (!ac.signal.aborted) ac.abort(new LetheError("CONFLICT", "workspace closed"));
      // Without a Workspace (construction failed) the directory is let go of here; dispose() does it otherwise.
      if (!ws) home?.close();
      const ref = home?.ref ?? (await this.workspaceRef(id));
      await this.cleanup(ref, requestId, ws, outcome, result, openedAt);
      this.active.delete(id);
      RUNNING_IN_PROCESS.delete(id);
      settle();
    }
  }

  /** Key dropped, directory shredded and removed, then the lease closed: never throws over the callback's outcome. */
  private async cleanup(
    ref: WorkspaceRef,
    requestId: string,
    ws: Workspace | undefined,
    outcome: string,
    result: unknown,
    openedAt: Date,
  ): Promise<void> {
    const id = ref.id;
    ws?.dispose(outcome, result);
    try {
      const r = await shredWorkspace(ref, await this.memoryBacked());
      if (!r.removed || r.errors.length > 0) {
        // Leave the lease open: the janitor finds it once it expires and finishes the job.
        this.deps.logger.warn(
          `workspace ${id}: cleanup incomplete (${r.errors.slice(0, 3).join("; ")}); left for the janitor`,
        );
        return;
      }
      await this.leases.close({
        id,
        requestId,
        reason: outcome,
        data: {
          outcome,
          files: r.files,
          bytes: r.bytes,
          plaintext: ws?.plaintext ?? false,
          unshredded: r.unshredded.length,
          ms: Date.now() - openedAt.getTime(),
        },
      });
    } catch (err) {
      this.deps.logger.warn(`workspace ${id}: cleanup failed (${(err as Error).message}); left for the janitor`);
    }
  }

  /** Aborts every running workspace and waits until each is cleaned up (lethe.close()). */
  async closeAll(): Promise<void> {
    const pending = [...this.active.values()];
    for (const a of pending) a.abort(new LetheError("CONFLICT", "lethe is closing; the workspace was shredded"));
    await Promise.all(pending.map((a) => a.done));
  }
}

import { closeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Semaphore } from "../core/semaphore.js";
import { PathChangedError } from "../safe-fs/anchor.js";
import { isPassingFailure, shredTree, type TreeShredResult } from "./shred-tree.js";
import { CIPHER_PREFIX } from "./workspace.js";
import { openNamespace, type WorkspaceRef } from "./workspace-dir.js";

/**
 * Top-level `e-…` files only ever held ciphertext: a zero overwrite is enough.
 *
 * @example
 * isCipherFile("e-0001"); // true
 * isCipherFile("plain/e-0001"); // false
 */
export const isCipherFile = (rel: string): boolean => rel.startsWith(CIPHER_PREFIX) && !rel.includes("/");

/**
 * Cleanups running at once, process-wide. Each holds a few descriptors while
 * it walks; unbounded, 10,000 finishing workspaces would hold 10,000 more on
 * top of the callers' own and run the process out (EMFILE).
 */
const GATE = new Semaphore(64);
/** How long a cleanup keeps retrying a passing shortage before leaving the rest to the janitor. */
const RETRY_FOR_MS = 10_000;

/**
 * Reaches the workspace from the transient root one component at a time
 * (no link followed, the namespace checked to be the one this service
 * opened, the workspace the one it created when known) and shreds it. A
 * swapped path is reported (PATH_CHANGED), never followed: nothing outside is
 * touched and the workspace stays for the janitor.
 */
async function shredOnce(ref: WorkspaceRef, memoryBacked: boolean): Promise<TreeShredResult> {
  let ns: number;
  try {
    ns = openNamespace(ref.root, ref.namespace, ref.nsIdentity);
  } catch (err) {
    const changed = err instanceof PathChangedError;
    const c = changed ? "PATH_CHANGED" : ((err as NodeJS.ErrnoException).code ?? "EUNKNOWN");
    const why = changed ? err.message : `the workspace namespace: ${c}`;
    return { files: 0, bytes: 0, unshredded: [], removed: false, errors: [why], codes: [c] };
  }
  try {
    return await shredTree(ns, ref.id, isCipherFile, { memoryBacked, expect: ref.wsIdentity });
  } finally {
    closeSync(ns);
  }
}

/** The clock and the pause between retries, injectable so a test can make time pass without waiting. */
export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: RetryClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/**
 * Shreds and removes one workspace directory, the one way both a finishing
 * workspace and the janitor do it: at most 64 at once, and a shortage of
 * descriptors or memory is waited out (backing off for up to 10 s from the
 * first failure: time spent queuing for the gate does not count), never turned
 * into leftover plaintext or an unlink without overwrite.
 *
 * @example
 * const r = await shredWorkspace({ root: "/dev/shm/lethe", namespace: "3e0e…", id: "ws_…", nsIdentity }, true);
 * if (!r.removed) logger.warn(r.errors.join("; "));
 */
export async function shredWorkspace(
  ref: WorkspaceRef,
  memoryBacked: boolean,
  clock: RetryClock = REAL_CLOCK,
): Promise<TreeShredResult> {
  let firstFailure: number | undefined;
  let pause = 10;
  for (;;) {
    const r = await GATE.use(() => shredOnce(ref, memoryBacked));
    if ((r.removed && r.errors.length === 0) || !isPassingFailure(r)) return r;
    const t = clock.now();
    firstFailure ??= t;
    if (t - firstFailure > RETRY_FOR_MS) return r;
    await clock.sleep(pause);
    pause = Math.min(pause * 2, 1000);
  }
}

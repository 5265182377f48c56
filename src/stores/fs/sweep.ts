import { DirAnchor } from "../../safe-fs/anchor.js";
import { isPermanentRefusal, removeAt } from "../../safe-fs/remove.js";

/** One fs batch to remove: plain data, so the same request runs on the main thread or in the sweep worker. */
export interface SweepRequest {
  /** The store's root, as configured. */
  root: string;
  /** Paths relative to the root (`/`-separated), already checked to be names this dataset could hold. */
  keys: string[];
  action: "delete" | "shred";
  /** Retention: a file modified since it was found expired (mtime + retention > now) is left alone. */
  expiry?: { nowS: number; retentionS: number };
}

/**
 * What happened to each key, by index: `true` removed, `false` nothing to do (already gone, or not
 * expired any more), a string the reason it failed (a code, never a path), or that reason marked
 * permanent when lethe refuses the item for what it is (isPermanentRefusal: a link, a directory).
 */
export type SweepOutcome = boolean | string | { reason: string; permanent: true };

/**
 * Removes a batch of files below a root through one anchor (src/safe-fs): every directory reached by
 * descriptors opened without following links, each file re-checked (still a regular file, still expired)
 * through its parent's descriptor right before its name is removed. Sync on purpose: a whole batch of
 * syscalls with no promise per file; large batches run it in the sweep worker (sweeper.ts), off the event loop.
 *
 * @example
 * sweepFiles({ root: "/data/models", keys: ["run-1/step-1.pt"], action: "delete" }); // [true]
 */
export function sweepFiles(req: SweepRequest): SweepOutcome[] {
  const { expiry } = req;
  const accept = expiry
    ? { accept: (st: { mtimeMs: number }) => st.mtimeMs / 1000 + expiry.retentionS <= expiry.nowS }
    : {};
  const anchor = new DirAnchor(req.root);
  const out: SweepOutcome[] = new Array(req.keys.length);
  try {
    for (let i = 0; i < req.keys.length; i++) {
      const r = removeAt(anchor, req.keys[i] as string, req.action, accept);
      out[i] = r.ok ? "shredded" in r : isPermanentRefusal(r.code) ? { reason: r.reason, permanent: true } : r.reason;
    }
  } finally {
    anchor.close();
  }
  return out;
}

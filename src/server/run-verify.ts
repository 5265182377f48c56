import { LetheError } from "../core/errors.js";
import type { VerifyResult } from "../ledger/verify.js";
import type { Lethe } from "../lethe.js";
import { saveVerification } from "./status-store.js";

export interface RunVerifyOptions {
  /** Re-check every entry (else only those after the last verified mark). */
  full?: boolean | undefined;
  /** Store the verified mark and publish the result (dashboard, metrics): scheduled runs and POST, never a GET. */
  record?: boolean | undefined;
}

const running = new WeakMap<Lethe, { full: boolean; p: Promise<VerifyResult> }>();

/** Seconds a caller refused while a verification runs is told to wait. */
export const VERIFY_RETRY_AFTER = 5;

/**
 * The one way the service verifies the ledger (`GET`/`POST /v1/audit/verify`,
 * the `ledger-verify` job): in a worker thread, so the event loop, `/healthz`,
 * event intake and lease renewal never wait behind it, and one at a time per
 * instance. A caller arriving while one runs gets that run's result when it
 * answers the question (a running full pass answers an incremental one);
 * asking for a full pass while an incremental one runs is refused with
 * `RATE_LIMITED` (429, retry shortly).
 *
 * @example
 * const r = await runVerify(lethe, { full: true }); if (!r.ok) console.log(r.firstBad);
 */
export function runVerify(lethe: Lethe, o: RunVerifyOptions = {}): Promise<VerifyResult> {
  const cur = running.get(lethe);
  if (cur) {
    if (cur.full || !o.full) return cur.p;
    return Promise.reject(
      new LetheError(
        "RATE_LIMITED",
        `an incremental ledger verification is running on this instance; ask for the full pass again in ${VERIFY_RETRY_AFTER} s`,
        { retryAfter: VERIFY_RETRY_AFTER },
      ),
    );
  }
  const p = (async () => {
    const r = await lethe.audit.verify({ full: o.full, record: o.record, worker: true });
    if (o.record) await saveVerification(lethe.state, r);
    return r;
  })().finally(() => running.delete(lethe));
  running.set(lethe, { full: o.full === true, p });
  return p;
}

/** True while a verification started by {@link runVerify} is under way on this instance. */
export function verifying(lethe: Lethe): boolean {
  return running.has(lethe);
}

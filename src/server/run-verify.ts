import type { VerifyResult } from "../ledger/verify.js";
import type { Lethe } from "../lethe.js";
import { saveVerification } from "./status-store.js";

const running = new WeakMap<Lethe, Promise<VerifyResult>>();

/**
 * The one way the service verifies the whole ledger (`GET /v1/audit/verify`,
 * the `ledger-verify` job): one verification at a time per instance, and a
 * caller arriving while one runs gets that run's result instead of starting
 * a second scan. The result is published for the dashboard and metrics.
 *
 * @example
 * const r = await runVerify(lethe); if (!r.ok) console.log(r.firstBad);
 */
export function runVerify(lethe: Lethe): Promise<VerifyResult> {
  let p = running.get(lethe);
  if (!p) {
    p = (async () => {
      const r = await lethe.audit.verify();
      await saveVerification(lethe.state, r);
      return r;
    })().finally(() => running.delete(lethe));
    running.set(lethe, p);
  }
  return p;
}

/** True while a verification started by {@link runVerify} is under way on this instance. */
export function verifying(lethe: Lethe): boolean {
  return running.has(lethe);
}

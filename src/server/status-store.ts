import type { VerifyResult } from "../ledger/verify.js";
import type { StateHandle } from "../state/open-state.js";

export interface VerificationStatus {
  at: string;
  ok: boolean;
  entries: number;
  firstBad?: number;
  reason?: string;
}

const KEY = "ledger_verification";

/**
 * The last ledger verification, shared by every instance through the state
 * (any instance's verify run answers the dashboard and `/metrics`).
 *
 * @example
 * await saveVerification(state, await lethe.audit.verify());
 */
export async function saveVerification(
  state: StateHandle,
  r: VerifyResult,
  at = new Date(),
): Promise<VerificationStatus> {
  const v: VerificationStatus = {
    at: at.toISOString(),
    ok: r.ok,
    entries: r.entries,
    ...(r.firstBad !== undefined ? { firstBad: r.firstBad } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
  await state.db
    .insertInto("server_status")
    .values({ key: KEY, value: JSON.stringify(v), updated_at: v.at })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: JSON.stringify(v), updated_at: v.at }))
    .execute();
  return v;
}

export async function lastVerification(state: StateHandle): Promise<VerificationStatus | undefined> {
  const r = await state.db.selectFrom("server_status").select("value").where("key", "=", KEY).executeTakeFirst();
  return r ? (JSON.parse(r.value) as VerificationStatus) : undefined;
}

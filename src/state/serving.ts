import { LetheError } from "../core/errors.js";
import type { StateHandle } from "./open-state.js";

/**
 * A key rotation is done with lethe stopped: a running instance keeps the
 * old key in memory and would go on wrapping or signing with it. The leader
 * lease of a live `lethe serve` is the one trace such an instance leaves in
 * the state, so a rotation refuses while one is held.
 *
 * @example
 * await refuseWhileServing(state); // CONFLICT while a serve instance holds the leader lease
 */
export async function refuseWhileServing(state: StateHandle, now = Date.now()): Promise<void> {
  const live = await state.db
    .selectFrom("leader_lease")
    .select(["expires_at"])
    .where("holder", "is not", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (live)
    throw new LetheError(
      "CONFLICT",
      `a lethe serve instance holds the leader lease until ${new Date(Number(live.expires_at)).toISOString()}: stop every lethe process using this state, then rotate`,
    );
}

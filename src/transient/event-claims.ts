import { ownerIsDead, selfOwner } from "../executor/liveness.js";
import type { StateHandle } from "../state/open-state.js";

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Event claims and their owners' liveness (executor/liveness.ts): a claim
 * records who took it and is locked for `lockMs`, renewed by its owner
 * while it works. Another worker may take it once the lock ran out (an
 * owner elsewhere stopped renewing) or at once when its owner on this host
 * is provably dead.
 *
 * @example
 * for (const id of await dueEvents(state, 100)) await claimEvent(state, id, Date.now(), 30_000);
 */
export async function dueEvents(state: StateHandle, limit: number, now = Date.now()): Promise<string[]> {
  const t = iso(now);
  const rows = await state.db
    .selectFrom("events")
    .select("id")
    .where((eb) =>
      eb.or([
        eb.and([eb("status", "=", "pending"), eb("next_attempt_at", "<=", t)]),
        eb.and([eb("status", "=", "processing"), eb("locked_until", "<", t)]),
      ]),
    )
    .orderBy("next_attempt_at")
    .limit(limit)
    .execute();
  const ids = rows.map((r) => r.id);
  if (ids.length >= limit) return ids;
  const locked = await state.db
    .selectFrom("events")
    .select(["id", "owner"])
    .where("status", "=", "processing")
    .where("locked_until", ">=", t)
    .execute();
  for (const r of locked) if (ownerIsDead(r.owner) && ids.length < limit) ids.push(r.id);
  return ids;
}

/**
 * Compare-and-set claim; a claim whose owner is dead is taken over only
 * from that exact owner (so two workers never both take it).
 */
export async function claimEvent(
  state: StateHandle,
  id: string,
  now: number,
  lockMs: number,
): Promise<{ id: string; attempts: number; payload: string; result: string | null } | undefined> {
  const t = iso(now);
  const current = await state.db
    .selectFrom("events")
    .select(["status", "owner"])
    .where("id", "=", id)
    .executeTakeFirst();
  const deadOwner = current?.status === "processing" && ownerIsDead(current.owner) ? current.owner : undefined;
  return state.db
    .updateTable("events")
    .set((eb) => ({
      status: "processing",
      attempts: eb("attempts", "+", 1),
      locked_until: iso(now + lockMs),
      owner: selfOwner(),
      updated_at: t,
    }))
    .where("id", "=", id)
    .where((eb) =>
      eb.or([
        eb.and([eb("status", "=", "pending"), eb("next_attempt_at", "<=", t)]),
        eb.and([eb("status", "=", "processing"), eb("locked_until", "<", t)]),
        ...(deadOwner ? [eb.and([eb("status", "=", "processing"), eb("owner", "=", deadOwner)])] : []),
      ]),
    )
    .returning(["id", "attempts", "payload", "result"])
    .executeTakeFirst();
}

/** Pushes a claim's lock out again, only while this process still owns it. */
export async function renewClaim(state: StateHandle, id: string, now: number, lockMs: number): Promise<void> {
  await state.db
    .updateTable("events")
    .set({ locked_until: iso(now + lockMs) })
    .where("id", "=", id)
    .where("status", "=", "processing")
    .where("owner", "=", selfOwner())
    .execute();
}

import { ANSWERED } from "../core/requests/types.js";
import type { StateHandle } from "../state/open-state.js";

/**
 * Erasure requests by status and how many are overdue (past `dueAt`, not yet
 * answered), counted in SQL for `/metrics`; the same rule as `requests list`.
 *
 * @example
 * const { byStatus, overdue } = await requestCounts(lethe.state);
 */
export async function requestCounts(
  state: StateHandle,
  now = new Date(),
): Promise<{ byStatus: Map<string, number>; overdue: number }> {
  const rows = await state.db
    .selectFrom("erasure_requests")
    .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  const overdue = await state.db
    .selectFrom("erasure_requests")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("due_at", "<", now.toISOString())
    .where("status", "not in", [...ANSWERED])
    .executeTakeFirst();
  return { byStatus: new Map(rows.map((r) => [r.status, Number(r.n)])), overdue: Number(overdue?.n ?? 0) };
}

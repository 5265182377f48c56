import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";

const PREFIX = "purge_pending:";

/**
 * Stores owed an unconditional rewrite. An erasure interrupted mid-run (kill
 * -9) loses the erased values its purge would have searched for; the batches
 * are reconciled at the next start, and the store is marked here so the next
 * erasure's purge rewrites it (VACUUM) instead of searching for values it no
 * longer knows.
 *
 * @example
 * await markPurgePending(trx, "appdb");
 */
export async function markPurgePending(trx: StateTx, store: string): Promise<void> {
  const at = new Date().toISOString();
  await trx
    .insertInto("server_status")
    .values({ key: `${PREFIX}${store}`, value: "1", updated_at: at })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: "1", updated_at: at }))
    .execute();
}

export async function purgePending(state: StateHandle): Promise<Set<string>> {
  const rows = await state.db.selectFrom("server_status").select("key").where("key", "like", `${PREFIX}%`).execute();
  return new Set(rows.map((r) => r.key.slice(PREFIX.length)));
}

export async function clearPurgePending(state: StateHandle, store: string): Promise<void> {
  await state.db.deleteFrom("server_status").where("key", "=", `${PREFIX}${store}`).execute();
}

import type { Kysely } from "kysely";

/**
 * Owners' liveness (executor/liveness.ts): the process that claimed an
 * event or started a run, as JSON `{host, boot, pid, start}`, so a dead
 * owner's event is taken over at once and its run closed as crashed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("events").addColumn("owner", "text").execute();
  await db.schema.alterTable("runs").addColumn("owner", "text").execute();
}

import { randomUUID } from "node:crypto";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { ownerIsDead, selfOwner } from "./liveness.js";

export interface RunRecord {
  id: string;
  kind: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  summary: unknown;
}

/** A new run's id: `run_<UTC yyyymmddhhmmss>_<8 hex>`. */
export function newRunId(): string {
  return `run_${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}_${randomUUID().slice(0, 8)}`;
}

/**
 * Inserts a run's row, marked running and owned by this process; inside the caller's transaction when given
 * one (withRun adds it together with its `run_started` entry).
 *
 * @example
 * await insertRun(state.db, newRunId(), "retention");
 */
export async function insertRun(db: StateHandle["db"] | StateTx, id: string, kind: string): Promise<void> {
  await db
    .insertInto("runs")
    .values({
      id,
      kind,
      started_at: new Date().toISOString(),
      finished_at: null,
      status: "running",
      summary: null,
      owner: selfOwner(),
    })
    .execute();
}

export async function listRuns(state: StateHandle, limit = 20): Promise<RunRecord[]> {
  const rows = await state.db.selectFrom("runs").selectAll().orderBy("started_at", "desc").limit(limit).execute();
  return rows.map(toRun);
}

export async function getRun(state: StateHandle, id: string): Promise<RunRecord | undefined> {
  const r = await state.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? toRun(r) : undefined;
}

function toRun(r: {
  id: string;
  kind: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  summary: string | null;
}): RunRecord {
  return {
    id: r.id,
    kind: r.kind,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    summary: r.summary ? JSON.parse(r.summary) : null,
  };
}

/**
 * Runs still marked running whose owner process is provably gone (killed,
 * or the machine rebooted): what `closeRun(…, "crashed")` closes.
 *
 * @example
 * for (const id of await deadRuns(state)) await executor.closeRun(id, "crashed", "its process is gone");
 */
export async function deadRuns(state: StateHandle): Promise<string[]> {
  const rows = await state.db
    .selectFrom("runs")
    .select(["id", "owner"])
    .where("status", "=", "running")
    .where("owner", "is not", null)
    .execute();
  return rows.filter((r) => ownerIsDead(r.owner)).map((r) => r.id);
}

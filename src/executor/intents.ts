import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { LetheError } from "../core/errors.js";
import type { IntentFields } from "../ledger/intent-mac.js";
import type { Ledger } from "../ledger/ledger.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import { ownerIsDead, selfOwner } from "./liveness.js";

/**
 * Write-ahead intents for deletions whose target is not lethe's state
 * database: intent → delete → outcome. An intent lists the keys (and linked
 * files) about to go; it is removed in the same transaction that records the
 * outcome, so an intent still present after a crash is exactly a batch whose
 * outcome may be missing from the ledger.
 */
export interface IntentItem {
  k: string | number;
  f?: string | null;
  /** Subject HMAC, never the raw subject. */
  s?: string;
}

export interface IntentPayload {
  pid: number;
  host: string;
  reason: string;
  /** `expire`: lifetimes being shortened (Redis TTLs), settled by asking which still exceed the retention. */
  action: "delete" | "shred" | "expire";
  items: IntentItem[];
  /** Set instead of items when whole partitions are being dropped (see partition-retention.ts). */
  partitions?: PartitionIntent[];
  /** The same for one partition, as intents written before partitions were dropped together carry it. */
  partition?: PartitionIntent;
  /** The writing process (executor/liveness.ts); older intents carry only pid and host. */
  owner?: string;
  /** The delete was sent and its reply lost: reconcile this intent now, whoever owns it. */
  unknown?: boolean;
}

/** A partition drop in progress: what to finish, and how far the recording got. */
export interface PartitionIntent {
  name: string;
  from: string;
  to: string;
  ledger: "items" | "partitions";
  /** `items`: rows recorded so far, and the last key recorded (keys are read in key order). */
  recorded: number;
  after?: string | number;
  /** Set once every key was read, before the drop: the outcome to record if the process dies after it. */
  rows?: number;
  digest?: string;
}

/** What seals an intent: the ledger, which alone holds the chain key. */
export type IntentSealer = Pick<Ledger, "intentMac" | "intentIsAuthentic">;

export interface OpenIntent {
  id: string;
  runId: string;
  dataset: string;
  openedAt: string;
  payload: IntentPayload;
}

export async function openIntent(
  state: StateHandle,
  ledger: IntentSealer,
  runId: string,
  dataset: string,
  reason: string,
  action: IntentPayload["action"],
  items: IntentItem[],
  partitions?: PartitionIntent[],
): Promise<string> {
  const id = randomUUID();
  const payload: IntentPayload = {
    pid: process.pid,
    host: hostname(),
    owner: selfOwner(),
    reason,
    action,
    items,
    ...(partitions ? { partitions } : {}),
  };
  const row = { id, run_id: runId, dataset, payload: JSON.stringify(payload) };
  await state.db
    .insertInto("intents")
    .values({ ...row, opened_at: new Date().toISOString(), mac: ledger.intentMac(row) })
    .execute();
  return id;
}

/** An intent for dropping partitions together (no item list: the keys are read from the detached partitions). */
export async function openPartitionIntent(
  state: StateHandle,
  ledger: IntentSealer,
  runId: string,
  dataset: string,
  reason: string,
  partitions: PartitionIntent[],
): Promise<OpenIntent> {
  const id = await openIntent(state, ledger, runId, dataset, reason, "delete", [], partitions);
  const payload: IntentPayload = {
    pid: process.pid,
    host: hostname(),
    owner: selfOwner(),
    reason,
    action: "delete",
    items: [],
    partitions,
  };
  return { id, runId, dataset, openedAt: new Date().toISOString(), payload };
}

/** Records how far a partition drop got, inside the transaction that records its entries. */
export async function updatePartitionIntent(
  trx: StateTx | StateHandle["db"],
  ledger: IntentSealer,
  intent: Pick<OpenIntent, "id" | "runId" | "dataset">,
  payload: IntentPayload,
): Promise<void> {
  await updateIntentPayload(trx, ledger, { id: intent.id, run_id: intent.runId, dataset: intent.dataset }, payload);
}

/** Rewrites an intent's payload and its MAC (the one way an open intent changes). */
export async function updateIntentPayload(
  trx: StateTx | StateHandle["db"],
  ledger: IntentSealer,
  row: Omit<IntentFields, "payload">,
  payload: IntentPayload,
): Promise<void> {
  const sealed = { ...row, payload: JSON.stringify(payload) };
  await trx
    .updateTable("intents")
    .set({ payload: sealed.payload, mac: ledger.intentMac(sealed) })
    .where("id", "=", row.id)
    .execute();
}

/** Removes the intent inside the outcome's transaction; false if someone else already did. */
export async function closeIntent(trx: StateTx, id: string): Promise<boolean> {
  const r = await trx.deleteFrom("intents").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Intents whose writer is gone: a dead process on this host (pid gone or
 * recycled, or a reboot since: executor/liveness.ts), or an intent older than
 * `staleAfterMs` from another host; and intents marked `unknown` (a lost
 * reply), whoever wrote them.
 */
export async function orphanedIntents(
  state: StateHandle,
  ledger: IntentSealer,
  staleAfterMs = 10 * 60_000,
): Promise<OpenIntent[]> {
  const rows = await state.db.selectFrom("intents").selectAll().orderBy("opened_at").execute();
  // Reconciling writes ledger entries and removes linked files: an intent lethe did not write is never acted on.
  const forged = rows.filter((r) => !ledger.intentIsAuthentic(r)).length;
  if (forged > 0)
    throw new LetheError(
      "AUDIT_FAILED",
      `lethe's state was tampered with: ${forged} intent(s) in the intents table are not authentic (their MAC does not match): lethe did not write them; refusing to reconcile (restore the state from a backup or remove those intents, then run lethe audit verify --full; a process started before a master-key rotation must be restarted)`,
    );
  const host = hostname();
  const now = Date.now();
  return rows
    .map((r) => ({
      id: r.id,
      runId: r.run_id,
      dataset: r.dataset,
      openedAt: r.opened_at,
      payload: JSON.parse(r.payload) as IntentPayload,
    }))
    .filter((i) =>
      i.payload.unknown === true
        ? true
        : i.payload.host === host
          ? i.payload.owner !== undefined
            ? ownerIsDead(i.payload.owner)
            : i.payload.pid !== process.pid &&
              ownerIsDead(JSON.stringify({ host, boot: "", pid: i.payload.pid, start: "" }))
          : now - Date.parse(i.openedAt) > staleAfterMs,
    );
}

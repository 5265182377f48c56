import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { StateHandle } from "../../state/open-state.js";
import type { ErasureRequestTable } from "../../state/schema.js";
import { LetheError } from "../errors.js";
import {
  ANSWERED,
  type ListRequestOptions,
  type RequestDetail,
  type RequestExtension,
  type RequestOutcome,
  type RequestStatus,
  type RequestSummary,
} from "./types.js";

/** How long a claim on a request lasts without renewal. */
export const LEASE_MS = 10 * 60_000;

export type RequestRow = ErasureRequestTable;

export async function loadRequest(state: StateHandle, id: string): Promise<RequestRow> {
  const row = await state.db.selectFrom("erasure_requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new LetheError("NOT_FOUND", `no erasure request with id ${id}`);
  return row;
}

export function isOverdue(row: Pick<RequestRow, "status" | "due_at">, now = new Date()): boolean {
  return !ANSWERED.includes(row.status as RequestStatus) && row.due_at < now.toISOString();
}

export function toSummary(row: RequestRow, now = new Date()): RequestSummary {
  return {
    id: row.id,
    status: row.status as RequestStatus,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    overdue: isOverdue(row, now),
  };
}

export function toDetail(row: RequestRow, now = new Date()): RequestDetail {
  const outcome = row.result ? (JSON.parse(row.result) as RequestOutcome) : undefined;
  return {
    ...toSummary(row, now),
    subjectHash: row.subject_hash,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.started_at !== null ? { startedAt: row.started_at } : {}),
    ...(row.completed_at !== null ? { completedAt: row.completed_at } : {}),
    ...(row.policy_hash !== null ? { policyHash: row.policy_hash } : {}),
    attempts: Number(row.attempts),
    extensions: JSON.parse(row.extensions) as RequestExtension[],
    datasets: outcome?.datasets ?? [],
    holds: outcome?.holds ?? [],
    lineage: outcome?.lineage ?? [],
    actions: outcome?.actions ?? [],
    residue: outcome?.residue ?? 0,
    ...(row.error !== null ? { error: row.error } : {}),
    receipt: row.receipt !== null,
  };
}

export async function listRequests(state: StateHandle, opts: ListRequestOptions = {}): Promise<RequestSummary[]> {
  const now = opts.now ?? new Date();
  let q = state.db.selectFrom("erasure_requests").selectAll();
  if (opts.status) q = q.where("status", "=", opts.status);
  if (opts.overdue) q = q.where("due_at", "<", now.toISOString()).where("status", "not in", [...ANSWERED]);
  const rows = await q.orderBy("received_at").orderBy("id").execute();
  return rows.map((r) => toSummary(r, now));
}

/** `pid@host#nonce`: one claim per call, so even one process cannot run a request twice at once. */
export function newOwner(): string {
  return `${process.pid}@${hostname()}#${randomBytes(4).toString("hex")}`;
}

function ownerGone(owner: string): boolean {
  const m = /^(\d+)@(.*)#[0-9a-f]+$/.exec(owner);
  if (!m || m[2] !== hostname()) return false; // another host: only the lease expiry frees it
  try {
    process.kill(Number(m[1]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "EPERM";
  }
}

/** Whether a request's current claim (if any) has lapsed: expired, or its process on this host is gone. */
export function claimable(row: RequestRow, now = new Date()): boolean {
  if (row.lease_owner === null) return true;
  if (row.lease_until === null || row.lease_until < now.toISOString()) return true;
  return ownerGone(row.lease_owner);
}

/**
 * Takes the request with a compare-and-swap on its previous owner, so of
 * several instances (or a restarted process racing a stale one) exactly one wins.
 */
export async function claim(state: StateHandle, row: RequestRow, owner: string): Promise<boolean> {
  if (!claimable(row)) return false;
  const now = new Date();
  let q = state.db
    .updateTable("erasure_requests")
    .set({
      lease_owner: owner,
      lease_until: new Date(now.getTime() + LEASE_MS).toISOString(),
      updated_at: now.toISOString(),
    })
    .where("id", "=", row.id);
  q = row.lease_owner === null ? q.where("lease_owner", "is", null) : q.where("lease_owner", "=", row.lease_owner);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function renew(state: StateHandle, id: string, owner: string): Promise<void> {
  await state.db
    .updateTable("erasure_requests")
    .set({ lease_until: new Date(Date.now() + LEASE_MS).toISOString() })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

export async function release(state: StateHandle, id: string, owner: string): Promise<void> {
  await state.db
    .updateTable("erasure_requests")
    .set({ lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

import { createHmac } from "node:crypto";
import { resolveSecret } from "../config/secrets.js";
import type { NotificationsConfig } from "../config/types.js";
import type { StateHandle } from "../state/open-state.js";

/** A delivery attempt holds its row this long; a process that dies mid-POST frees it for another attempt. */
const CLAIM_MS = 60_000;
/** Delivered rows are kept this long (for `GET`-free inspection), then removed. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;

export type RetryPolicy = Pick<NotificationsConfig, "retryMinMs" | "retryMaxMs" | "maxAttempts" | "maxAgeSeconds">;

export interface DeliverOptions {
  policy: RetryPolicy;
  /** Folder `file:` secret references are resolved against (the config's). */
  baseDir: string;
  now?: () => Date;
  /** Rows per pass (sent in parallel). */
  limit?: number;
  timeoutMs?: number;
  /** Only this row (the janitor's immediate attempt). */
  id?: string;
}

export interface Attempt {
  id: string;
  event: string;
  ok: boolean;
  status?: number;
  error?: string;
  /** pending (will retry), delivered, or dead (gave up). */
  outcome: "delivered" | "pending" | "dead";
}

/**
 * The HMAC a receiver recomputes: `sha256=` + hex HMAC-SHA256(secret, raw body).
 *
 * @example
 * signature("s3cret", '{"id":"ntf_…"}'); // "sha256=5d41…"
 */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** Exponential: retryMin, 2×, 4×… capped at retryMax (attempts counts the failed tries so far). */
export function backoffMs(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.retryMaxMs, policy.retryMinMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

/**
 * One pass over the outbox: every pending row that is due is claimed (a
 * conditional update, so two instances never send the same row at once),
 * POSTed, and marked delivered, rescheduled with backoff, or dead after
 * `maxAttempts` or `maxAge`. A receiver must answer 2xx; anything else is a
 * failure. Error texts kept on the row are status codes and error codes only.
 *
 * @example
 * const attempts = await deliverDue(lethe.state, { policy: config.notifications, baseDir: config.baseDir });
 */
export async function deliverDue(state: StateHandle, opts: DeliverOptions): Promise<Attempt[]> {
  const now = (opts.now ?? (() => new Date()))();
  const nowIso = now.toISOString();
  let q = state.db
    .selectFrom("notify_outbox")
    .select(["id", "next_at"])
    .where("status", "=", "pending")
    .where("next_at", "<=", nowIso);
  if (opts.id !== undefined) q = q.where("id", "=", opts.id);
  const due = await q
    .orderBy("next_at")
    .limit(opts.limit ?? 20)
    .execute();
  const claimed: string[] = [];
  for (const row of due) {
    const r = await state.db
      .updateTable("notify_outbox")
      .set({ next_at: new Date(now.getTime() + CLAIM_MS).toISOString() })
      .where("id", "=", row.id)
      .where("status", "=", "pending")
      .where("next_at", "=", row.next_at)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) claimed.push(row.id);
  }
  const attempts = await Promise.all(claimed.map((id) => attempt(state, id, now, opts)));
  if (opts.id === undefined) {
    await state.db
      .deleteFrom("notify_outbox")
      .where("status", "=", "delivered")
      .where("delivered_at", "<", new Date(now.getTime() - KEEP_DELIVERED_MS).toISOString())
      .execute();
  }
  return attempts;
}

async function attempt(state: StateHandle, id: string, now: Date, opts: DeliverOptions): Promise<Attempt> {
  const row = await state.db.selectFrom("notify_outbox").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const sent = await post(row.target, row.body, row.event, row.id, row.secret_ref, opts);
  const tries = Number(row.attempts) + 1;
  if (sent.ok) {
    await state.db
      .updateTable("notify_outbox")
      .set({ status: "delivered", attempts: tries, delivered_at: now.toISOString(), last_error: null })
      .where("id", "=", id)
      .execute();
    return { id, event: row.event, ok: true, status: sent.status, outcome: "delivered" };
  }
  const next = now.getTime() + backoffMs(tries, opts.policy);
  const dead = tries >= opts.policy.maxAttempts || next - Date.parse(row.created_at) > opts.policy.maxAgeSeconds * 1000;
  await state.db
    .updateTable("notify_outbox")
    .set({
      status: dead ? "dead" : "pending",
      attempts: tries,
      next_at: new Date(dead ? now.getTime() : next).toISOString(),
      last_error: sent.error ?? null,
    })
    .where("id", "=", id)
    .execute();
  return {
    id,
    event: row.event,
    ok: false,
    status: sent.status,
    error: sent.error,
    outcome: dead ? "dead" : "pending",
  };
}

async function post(
  url: string,
  body: string,
  event: string,
  id: string,
  secretRef: string | null,
  opts: DeliverOptions,
): Promise<{ ok: boolean; status?: number; error?: string }> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "lethe-notify",
    "x-lethe-event": event,
    "x-lethe-delivery": id,
  };
  if (secretRef !== null) {
    let secret: string;
    try {
      secret = resolveSecret(secretRef, opts.baseDir);
    } catch {
      // The reference's name is configuration, not a secret: say which one is missing.
      return { ok: false, error: `signing secret ${secretRef} cannot be resolved` };
    }
    headers["x-lethe-signature"] = signature(secret, body);
  }
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300
      ? { ok: true, status: res.status }
      : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, error: e.cause?.code ?? e.name };
  }
}

/** Rows per status (`pending`, `delivered`, `dead`) for /metrics. */
export async function outboxCounts(state: StateHandle): Promise<Map<string, number>> {
  const rows = await state.db
    .selectFrom("notify_outbox")
    .select(["status", state.db.fn.countAll<string | number>().as("n")])
    .groupBy("status")
    .execute();
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

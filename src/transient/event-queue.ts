import { randomBytes } from "node:crypto";
import { LetheError } from "../core/errors.js";
import { open, seal } from "../crypto/aead.js";
import type { Executor } from "../executor/executor.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import { durably } from "./durable.js";
import { claimEvent, dueEvents, renewClaim } from "./event-claims.js";
import type { Artifact, InferenceComplete } from "./event-schema.js";
import type {
  ClaimedEvent,
  EnqueueResult,
  EventRecord,
  EventResult,
  EventStatus,
  QueueOptions,
} from "./event-types.js";
import { GroupCommit } from "./group-commit.js";

export type {
  ClaimedEvent,
  EnqueueResult,
  EventDatasetResult,
  EventRecord,
  EventResult,
  EventStatus,
  QueueOptions,
} from "./event-types.js";

type Row = {
  id: string;
  status: string;
  attempts: number;
  artifacts: number;
  received_at: string;
  next_attempt_at: string;
  updated_at: string;
  last_error: string | null;
  result: string | null;
};

const iso = (ms: number) => new Date(ms).toISOString();

/** The AAD an event's artifact list is sealed with under the master key (bound to the event id). */
export function eventPayloadAad(id: string): Buffer {
  return Buffer.from(`lethe-event/v1\0${id}`);
}

/**
 * The durable event queue: an event is committed (with its `event_received`
 * ledger entry, WAL fsync'd on SQLite) before enqueue() resolves, is stored
 * once per request id, and moves pending → processing → done, or back to
 * pending with a backoff, or to failed after the last attempt. The artifact
 * list is sealed with the master key at rest and cleared once done.
 *
 * @example
 * const { id } = await queue.enqueue({ requestId: "req-1", artifacts: [] });
 * const claimed = await queue.claim(id);
 */
export class EventQueue {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly lockMs: number;
  private readonly commits: GroupCommit<InferenceComplete, EnqueueResult | LetheError>;

  constructor(
    private readonly state: StateHandle,
    private readonly ledger: Executor,
    private readonly masterKey: Buffer,
    opts: QueueOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 3_600_000;
    this.lockMs = opts.lockMs ?? 30_000;
    this.commits = new GroupCommit((batch) => this.store(batch), 200);
  }

  /** Persists the event (durably) and resolves only then. */
  async enqueue(evt: InferenceComplete): Promise<EnqueueResult> {
    const r = await this.commits.submit(evt);
    if (r instanceof LetheError) throw r;
    return r;
  }

  /** Exponential backoff with jitter in [0.75, 1] of the step, so successive delays strictly grow until the cap. */
  backoffMs(attempts: number): number {
    const step = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(step * (0.75 + Math.random() * 0.25));
  }

  private payloadHash(artifacts: Artifact[]): string {
    return this.ledger.keyHash("\0event-payload", JSON.stringify(artifacts.map((a) => [a.dataset, a.key])));
  }

  private async store(batch: InferenceComplete[]): Promise<(EnqueueResult | LetheError)[]> {
    try {
      return await this.storeBatch(batch);
    } catch (err) {
      // A concurrent instance stored one of these request ids first: settle them one by one.
      if (batch.length === 1) return [toError(err)];
      const out: (EnqueueResult | LetheError)[] = [];
      for (const e of batch)
        out.push(await this.storeBatch([e]).then((r) => r[0] as EnqueueResult | LetheError, toError));
      return out;
    }
  }

  private async storeBatch(batch: InferenceComplete[]): Promise<(EnqueueResult | LetheError)[]> {
    const hashes = batch.map((e) => this.ledger.keyHash("", e.requestId));
    const existing = new Map<string, { id: string; status: string; received_at: string; payload_hash: string }>();
    const rows = await this.state.db
      .selectFrom("events")
      .select(["id", "status", "received_at", "payload_hash", "request_hash"])
      .where("request_hash", "in", [...new Set(hashes)])
      .execute();
    for (const r of rows) existing.set(r.request_hash, r);
    const now = new Date().toISOString();
    const fresh: { evt: InferenceComplete; id: string; hash: string; payloadHash: string }[] = [];
    const out: (EnqueueResult | LetheError)[] = batch.map((evt, i) => {
      const hash = hashes[i] as string;
      const payloadHash = this.payloadHash(evt.artifacts);
      const prior = existing.get(hash);
      if (prior) {
        if (prior.payload_hash !== payloadHash)
          return new LetheError("CONFLICT", "this requestId was already accepted with a different artifact list", {
            eventId: prior.id,
          });
        return { id: prior.id, status: prior.status as EventStatus, duplicate: true, receivedAt: prior.received_at };
      }
      const id = `evt_${randomBytes(12).toString("hex")}`;
      existing.set(hash, { id, status: "pending", received_at: now, payload_hash: payloadHash });
      fresh.push({ evt, id, hash, payloadHash });
      return { id, status: "pending", duplicate: false, receivedAt: now };
    });
    if (fresh.length === 0) return out;
    await durably(this.state, (db) =>
      db.transaction().execute(async (trx) => {
        await this.ledger.recordInTx(
          trx,
          fresh.map(
            (f): EntryInput => ({
              action: "event_received",
              key: f.evt.requestId,
              runId: f.id,
              reason: "inference-complete",
              data: { event: f.id, artifacts: f.evt.artifacts.length },
            }),
          ),
        );
        await trx
          .insertInto("events")
          .values(
            fresh.map((f) => ({
              id: f.id,
              request_hash: f.hash,
              payload_hash: f.payloadHash,
              payload: seal(
                this.masterKey,
                Buffer.from(JSON.stringify(f.evt.artifacts)),
                eventPayloadAad(f.id),
              ).toString("base64"),
              artifacts: f.evt.artifacts.length,
              status: "pending",
              attempts: 0,
              received_at: now,
              next_attempt_at: now,
              locked_until: null,
              updated_at: now,
              last_error: null,
              result: null,
            })),
          )
          .execute();
      }),
    );
    return out;
  }

  /**
   * Ids of events due now: pending past their next attempt, claims whose lock
   * ran out (an owner on another host stopped renewing it), and claims whose
   * owner on this host is provably dead (taken over at once, not when the lock ends).
   */
  due(limit: number, now = Date.now()): Promise<string[]> {
    return dueEvents(this.state, limit, now);
  }

  /** Claims one event for this worker (compare-and-set, safe across instances); undefined if someone else has it. */
  async claim(id: string, now = Date.now()): Promise<ClaimedEvent | undefined> {
    const row = await claimEvent(this.state, id, now, this.lockMs);
    if (!row) return undefined;
    const plain = open(this.masterKey, Buffer.from(row.payload, "base64"), eventPayloadAad(row.id));
    const refused = row.result ? (JSON.parse(row.result) as EventResult).refused : undefined;
    return {
      id: row.id,
      attempts: Number(row.attempts),
      artifacts: JSON.parse(plain.toString("utf8")) as Artifact[],
      ...(refused?.length ? { refused } : {}),
    };
  }

  /** The claim's heartbeat: pushes its lock out again while this process is still working on it. */
  renew(id: string, now = Date.now()): Promise<void> {
    return renewClaim(this.state, id, now, this.lockMs);
  }

  /** How often a claim's owner renews its lock (a third of the lock, so two missed beats still hold it). */
  get heartbeatMs(): number {
    return Math.max(50, Math.floor(this.lockMs / 3));
  }

  async succeed(id: string, result: EventResult): Promise<void> {
    const t = new Date().toISOString();
    await this.state.db
      .updateTable("events")
      .set({
        status: "done",
        payload: "",
        result: JSON.stringify(result),
        last_error: null,
        locked_until: null,
        updated_at: t,
      })
      .where("id", "=", id)
      .where("status", "=", "processing")
      .execute();
  }

  /**
   * Schedules a retry, or marks the event failed after the last attempt, or at
   * once when `retry` is false (every failure left is a refusal that trying
   * again cannot change); returns the new status.
   */
  async fail(ev: ClaimedEvent, failure: string, result: EventResult, retry = true): Promise<EventStatus> {
    // Kept in the queue and, at the last attempt, on the ledger: never with an artifact's key in clear.
    const error = this.ledger.scrubText(
      failure,
      [],
      ev.artifacts.map((a) => a.key),
    );
    const giveUp = !retry || ev.attempts >= this.maxAttempts;
    const why = retry ? `gave up after ${ev.attempts} attempts` : `not retried (refused for what the items are)`;
    const now = Date.now();
    const status: EventStatus = giveUp ? "failed" : "pending";
    await this.state.db.transaction().execute(async (trx) => {
      if (giveUp)
        await this.ledger.recordInTx(trx, [
          {
            action: "failed",
            runId: ev.id,
            reason: `event ${ev.id}: ${why}: ${error}`.slice(0, 500),
            data: { event: ev.id },
          },
        ]);
      await trx
        .updateTable("events")
        .set({
          status,
          next_attempt_at: iso(now + (giveUp ? 0 : this.backoffMs(ev.attempts))),
          last_error: error.slice(0, 1000),
          result: JSON.stringify(result),
          locked_until: null,
          updated_at: iso(now),
        })
        .where("id", "=", ev.id)
        .where("status", "=", "processing")
        .execute();
    });
    return status;
  }

  /**
   * Makes an event due now: a failed one gets one more attempt (artifacts
   * refused before are tried again too: the operator may have fixed them), a
   * pending one skips its backoff (janitor --apply).
   */
  async rearm(id: string): Promise<boolean> {
    const t = new Date().toISOString();
    const failed = await this.state.db
      .updateTable("events")
      .set({ status: "pending", attempts: this.maxAttempts - 1, next_attempt_at: t, updated_at: t, result: null })
      .where("id", "=", id)
      .where("status", "=", "failed")
      .executeTakeFirst();
    if (Number(failed.numUpdatedRows) > 0) return true;
    const pending = await this.state.db
      .updateTable("events")
      .set({ next_attempt_at: t, updated_at: t })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .executeTakeFirst();
    return Number(pending.numUpdatedRows) > 0;
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const row = await this.state.db.selectFrom("events").select(COLUMNS).where("id", "=", id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async getByRequest(requestId: string): Promise<EventRecord | undefined> {
    const row = await this.state.db
      .selectFrom("events")
      .select(COLUMNS)
      .where("request_hash", "=", this.ledger.keyHash("", requestId))
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Event counts by status (queue depth = pending + processing). */
  async depth(): Promise<Record<EventStatus, number>> {
    const rows = await this.state.db
      .selectFrom("events")
      .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    const out: Record<EventStatus, number> = { pending: 0, processing: 0, done: 0, failed: 0 };
    for (const r of rows) if (r.status in out) out[r.status as EventStatus] = Number(r.n);
    return out;
  }

  /** Failed events, and events still undelivered `graceSeconds` after they arrived (janitor). */
  async problems(now: Date, graceSeconds: number): Promise<EventRecord[]> {
    const cutoff = iso(now.getTime() - graceSeconds * 1000);
    const rows = await this.state.db
      .selectFrom("events")
      .select(COLUMNS)
      .where((eb) =>
        eb.or([
          eb("status", "=", "failed"),
          eb.and([eb("status", "in", ["pending", "processing"]), eb("received_at", "<", cutoff)]),
        ]),
      )
      .orderBy("received_at")
      .execute();
    return rows.map(toRecord);
  }

  /** Earliest next attempt among pending events (epoch ms), to time the next retry. */
  async nextDue(): Promise<number | undefined> {
    const r = await this.state.db
      .selectFrom("events")
      .select((eb) => eb.fn.min("next_attempt_at").as("t"))
      .where("status", "=", "pending")
      .executeTakeFirst();
    return r?.t ? Date.parse(String(r.t)) : undefined;
  }
}

const COLUMNS = [
  "id",
  "status",
  "attempts",
  "artifacts",
  "received_at",
  "next_attempt_at",
  "updated_at",
  "last_error",
  "result",
] as const;

function toRecord(r: Row): EventRecord {
  return {
    id: r.id,
    status: r.status as EventStatus,
    attempts: Number(r.attempts),
    artifacts: Number(r.artifacts),
    receivedAt: r.received_at,
    nextAttemptAt: r.next_attempt_at,
    updatedAt: r.updated_at,
    ...(r.last_error ? { lastError: r.last_error } : {}),
    ...(r.result ? { result: JSON.parse(r.result) as EventResult } : {}),
  };
}

function toError(err: unknown): LetheError {
  return err instanceof LetheError
    ? err
    : new LetheError("STATE_ERROR", `could not store the event: ${(err as Error).message}`, undefined, { cause: err });
}

import { sql } from "kysely";
import type { Executor } from "../executor/executor.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import type { StateDatabase } from "../state/schema.js";
import type { LeaderLease } from "./lease.js";
import type { Missed } from "./misfire.js";

export type ClaimStatus = "running" | "ok" | "partial" | "interrupted" | "refused" | "failed" | "missed";

export interface Claim {
  job: string;
  fireTime: Date;
  status: string;
  instance: string;
  epoch: number;
  claimedAt: string;
  finishedAt: string | null;
  runId: string | null;
  resumedFrom: string | null;
  detail: string | null;
}

/**
 * One row per (job, fire time): the unique key is what makes a scheduled run
 * happen exactly once however many instances share the state. Every insert is
 * fenced by the lease: it only lands while the lease row still carries our
 * holder and epoch and has not expired.
 *
 * @example
 * if (await claims.claim("retention:logs", fireTime)) await runIt();
 */
export class Claims {
  constructor(
    private readonly state: StateHandle,
    private readonly lease: LeaderLease,
  ) {}

  private get instance(): string {
    return this.lease.opts.holder;
  }

  private now(): Date {
    return this.lease.opts.clock.now();
  }

  /** The last fire time handled for a job; a job seen for the first time starts from now. */
  async cursor(job: string): Promise<Date> {
    const r = await this.state.db
      .selectFrom("schedule_claims")
      .select((eb) => eb.fn.max("fire_time").as("t"))
      .where("job", "=", job)
      .executeTakeFirst();
    if (r?.t) return new Date(r.t);
    await this.state.db
      .insertInto("schedule_jobs")
      .values({ job, registered_at: this.now().toISOString() })
      .onConflict((oc) => oc.column("job").doNothing())
      .execute();
    const reg = await this.state.db
      .selectFrom("schedule_jobs")
      .select("registered_at")
      .where("job", "=", job)
      .executeTakeFirstOrThrow();
    return new Date(reg.registered_at);
  }

  /** Inserts the claim if (job, fire time) is unclaimed and our lease still holds; true if it is ours. */
  async claim(
    job: string,
    fireTime: Date,
    status: ClaimStatus = "running",
    detail?: string,
    trx?: StateTx,
  ): Promise<boolean> {
    const epoch = this.lease.epoch;
    if (epoch === undefined) return false;
    const db = trx ?? this.state.db;
    const nowMs = this.now().getTime();
    const text = (v: string | null) => sql<string>`cast(${v} as text)`;
    const r = await db
      .insertInto("schedule_claims")
      .columns(["job", "fire_time", "status", "instance", "epoch", "claimed_at", "detail"])
      .expression(
        db
          .selectFrom("leader_lease")
          .select([
            text(job).as("job"),
            text(fireTime.toISOString()).as("fire_time"),
            text(status).as("status"),
            text(this.instance).as("instance"),
            sql<number>`cast(${epoch} as bigint)`.as("epoch"),
            text(new Date(nowMs).toISOString()).as("claimed_at"),
            text(detail ?? null).as("detail"),
          ])
          .where("name", "=", this.lease.opts.name)
          .where("holder", "=", this.instance)
          .where("epoch", "=", epoch)
          .where("expires_at", ">", nowMs),
      )
      .onConflict((oc) => oc.columns(["job", "fire_time"]).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /**
   * Records fire times that will not run: one `run_missed` ledger entry and a
   * claim on the last of them, in one transaction, so only one instance ever
   * records a given gap.
   */
  async recordMissed(
    ledger: Executor | undefined,
    job: string,
    missed: Missed,
    why: string,
    dataset?: string,
  ): Promise<boolean> {
    const detail = `${missed.capped ? "at least " : ""}${missed.count} fire time(s) from ${missed.first.toISOString()} to ${missed.last.toISOString()}: ${why}`;
    if (!ledger) return this.claim(job, missed.last, "missed", detail);
    try {
      await this.state.db.transaction().execute(async (trx) => {
        await ledger.recordInTx(trx, [
          {
            action: "run_missed",
            ...(dataset !== undefined ? { dataset } : {}),
            reason: `${job}: ${detail}`,
            data: {
              job,
              count: missed.count,
              capped: missed.capped,
              first: missed.first.toISOString(),
              last: missed.last.toISOString(),
            },
          },
        ]);
        if (!(await this.claim(job, missed.last, "missed", detail, trx))) throw new AlreadyClaimed();
      });
      return true;
    } catch (err) {
      if (err instanceof AlreadyClaimed) return false;
      throw err;
    }
  }

  async setRunId(job: string, fireTime: Date, epoch: number, runId: string): Promise<void> {
    await this.state.db
      .updateTable("schedule_claims")
      .set({ run_id: runId })
      .where("job", "=", job)
      .where("fire_time", "=", fireTime.toISOString())
      .where("epoch", "=", epoch)
      .execute();
  }

  /** Records the outcome; fenced by the claim's epoch, so after a takeover our late update changes nothing. */
  async finish(
    job: string,
    fireTime: Date,
    epoch: number,
    status: ClaimStatus,
    runId: string | undefined,
    detail: string | undefined,
  ): Promise<void> {
    await this.state.db
      .updateTable("schedule_claims")
      .set({
        status,
        finished_at: this.now().toISOString(),
        ...(runId ? { run_id: runId } : {}),
        detail: detail ?? null,
      })
      .where("job", "=", job)
      .where("fire_time", "=", fireTime.toISOString())
      .where("epoch", "=", epoch)
      .execute();
  }

  /** Claims a previous leader left running or interrupted. */
  async resumable(): Promise<Claim[]> {
    const epoch = this.lease.epoch;
    if (epoch === undefined) return [];
    const rows = await this.state.db
      .selectFrom("schedule_claims")
      .selectAll()
      .where("status", "in", ["running", "interrupted"])
      .where("epoch", "<", epoch)
      .orderBy("fire_time")
      .execute();
    return rows.map(toClaim);
  }

  /** Moves an abandoned claim to our epoch (compare-and-set on its old epoch); true if we got it. */
  async takeOver(c: Claim): Promise<boolean> {
    const epoch = this.lease.epoch;
    if (epoch === undefined) return false;
    const r = await this.state.db
      .updateTable("schedule_claims")
      .set({ epoch, instance: this.instance, status: "running", resumed_from: c.runId })
      .where("job", "=", c.job)
      .where("fire_time", "=", c.fireTime.toISOString())
      .where("epoch", "=", c.epoch)
      .where("status", "in", ["running", "interrupted"])
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("leader_lease")
            .select("leader_lease.name")
            .where("leader_lease.name", "=", this.lease.opts.name)
            .where("leader_lease.holder", "=", this.instance)
            .where("leader_lease.epoch", "=", epoch)
            .where("leader_lease.expires_at", ">", this.now().getTime()),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Recent claims, newest first (dashboard, tests). */
  async recent(limit = 50, job?: string): Promise<Claim[]> {
    let q = this.state.db.selectFrom("schedule_claims").selectAll();
    if (job !== undefined) q = q.where("job", "=", job);
    return (await q.orderBy("fire_time", "desc").limit(limit).execute()).map(toClaim);
  }
}

class AlreadyClaimed extends Error {}

function toClaim(r: StateDatabase["schedule_claims"]): Claim {
  return {
    job: r.job,
    fireTime: new Date(r.fire_time),
    status: r.status,
    instance: r.instance,
    epoch: Number(r.epoch),
    claimedAt: r.claimed_at,
    finishedAt: r.finished_at,
    runId: r.run_id,
    resumedFrom: r.resumed_from,
    detail: r.detail,
  };
}

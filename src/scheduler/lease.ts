import type { StateHandle } from "../state/open-state.js";
import type { Clock } from "./clock.js";

export interface LeaseOptions {
  /** Lease row name; one scheduler per state uses "scheduler". */
  name: string;
  /** This instance's id (host, pid, random suffix). */
  holder: string;
  ttlMs: number;
  clock: Clock;
}

export interface LeaseRow {
  holder: string | null;
  epoch: number;
  expiresAt: Date;
}

/**
 * Leadership as a row in the shared state, not a session advisory lock (a
 * pool can hold one on a connection nobody uses any more). Taking an expired
 * lease bumps its epoch, the fencing token: every claim and takeover is
 * conditional on the epoch still being ours, so an instance that stalled past
 * its lease can no longer start or claim work once another took over.
 *
 * @example
 * const lease = new LeaderLease(state, { name: "scheduler", holder: id, ttlMs: 15_000, clock: systemClock });
 * if (await lease.tryAcquire()) console.log("leader with epoch", lease.epoch);
 */
export class LeaderLease {
  /** Our epoch while we hold (or last held) the lease. */
  epoch: number | undefined;
  private validUntil = 0;

  constructor(
    private readonly state: StateHandle,
    readonly opts: LeaseOptions,
  ) {}

  private nowMs(): number {
    return this.opts.clock.now().getTime();
  }

  private async ensureRow(): Promise<void> {
    await this.state.db
      .insertInto("leader_lease")
      .values({ name: this.opts.name, holder: null, epoch: 0, expires_at: 0, acquired_at: null })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
  }

  /** True while we hold the lease by our own clock (with the renewal that last succeeded). */
  isLeader(): boolean {
    return this.epoch !== undefined && this.nowMs() < this.validUntil;
  }

  /** Takes the lease if it is free or expired; renews it if it is already ours. */
  async tryAcquire(): Promise<boolean> {
    if (this.epoch !== undefined && (await this.renew())) return true;
    await this.ensureRow();
    const start = this.nowMs();
    const row = await this.state.db
      .updateTable("leader_lease")
      .set((eb) => ({
        holder: this.opts.holder,
        epoch: eb("epoch", "+", 1),
        expires_at: start + this.opts.ttlMs,
        acquired_at: new Date(start).toISOString(),
      }))
      .where("name", "=", this.opts.name)
      .where("expires_at", "<", start)
      .returning("epoch")
      .executeTakeFirst();
    if (!row) return false;
    this.epoch = Number(row.epoch);
    this.validUntil = start + this.opts.ttlMs;
    return true;
  }

  /** Extends our lease; false (and leadership dropped) if it is no longer ours. */
  async renew(): Promise<boolean> {
    if (this.epoch === undefined) return false;
    const start = this.nowMs();
    // A lease that already ran out on our own clock is not extended: another instance may hold it.
    if (start >= this.validUntil) {
      this.epoch = undefined;
      return false;
    }
    const r = await this.state.db
      .updateTable("leader_lease")
      .set({ expires_at: start + this.opts.ttlMs })
      .where("name", "=", this.opts.name)
      .where("holder", "=", this.opts.holder)
      .where("epoch", "=", this.epoch)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      this.epoch = undefined;
      this.validUntil = 0;
      return false;
    }
    this.validUntil = start + this.opts.ttlMs;
    return true;
  }

  /** Gives the lease up at once so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.epoch === undefined) return;
    const epoch = this.epoch;
    this.epoch = undefined;
    this.validUntil = 0;
    await this.state.db
      .updateTable("leader_lease")
      .set({ expires_at: 0 })
      .where("name", "=", this.opts.name)
      .where("holder", "=", this.opts.holder)
      .where("epoch", "=", epoch)
      .execute();
  }

  /** The lease as stored (for the dashboard and tests). */
  async read(): Promise<LeaseRow | undefined> {
    const r = await this.state.db
      .selectFrom("leader_lease")
      .selectAll()
      .where("name", "=", this.opts.name)
      .executeTakeFirst();
    return r ? { holder: r.holder, epoch: Number(r.epoch), expiresAt: new Date(Number(r.expires_at)) } : undefined;
  }
}

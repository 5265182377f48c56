import { hostname } from "node:os";
import type { Executor } from "../executor/executor.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import { GroupCommit } from "./group-commit.js";

/**
 * Workspace leases in lethe's state. A lease (with its expiry) is committed,
 * together with the `workspace_opened` ledger entry, before the workspace
 * directory exists; it is removed, together with `workspace_closed`, only
 * after the directory is gone. So a workspace directory without a lease, or
 * a lease past its expiry, is always something the janitor must look at.
 * The request id is only ever stored as its HMAC.
 *
 * @example
 * await leases.open({ id, requestId, dir, openedAt: new Date(), expiresAt });
 * await leases.close({ id, requestId, reason: "ok", data: { outcome: "ok" } });
 */
export interface LeaseRow {
  id: string;
  requestHash: string;
  dir: string;
  host: string;
  pid: number;
  openedAt: string;
  expiresAt: string;
  plaintext: boolean;
}

export interface OpenLease {
  id: string;
  requestId: string;
  dir: string;
  openedAt: Date;
  expiresAt: Date;
}

export interface CloseLease {
  id: string;
  requestId?: string | undefined;
  requestHash?: string | undefined;
  /** Goes into the `workspace_closed` entry's data. */
  data: Record<string, unknown>;
  reason: string;
}

export class Leases {
  private readonly opens: GroupCommit<OpenLease, undefined>;
  private readonly closes: GroupCommit<CloseLease, undefined>;

  constructor(
    private readonly state: StateHandle,
    private readonly ledger: Executor,
  ) {
    this.opens = new GroupCommit((items) => this.insert(items));
    this.closes = new GroupCommit((items) => this.remove(items));
  }

  /** HMAC of a request id, as stored on the lease and the ledger. */
  requestHash(requestId: string): string {
    return this.ledger.keyHash("", requestId);
  }

  async open(lease: OpenLease): Promise<void> {
    await this.opens.submit(lease);
  }

  async close(c: CloseLease): Promise<void> {
    await this.closes.submit(c);
  }

  /** Flags the lease: the workspace now holds plaintext files (ws.path). */
  async markPlaintext(id: string, requestId: string, name: string): Promise<void> {
    await this.state.db.transaction().execute(async (trx) => {
      await this.ledger.recordInTx(trx, [
        {
          action: "workspace_plaintext",
          key: requestId,
          runId: id,
          reason: "plain path handed out",
          data: { workspace: id, plaintext: true, nameLength: name.length },
        },
      ]);
      await trx.updateTable("leases").set({ plaintext: 1 }).where("id", "=", id).execute();
    });
  }

  async list(): Promise<LeaseRow[]> {
    const rows = await this.state.db.selectFrom("leases").selectAll().orderBy("expires_at").execute();
    return rows.map((r) => ({
      id: r.id,
      requestHash: r.request_hash,
      dir: r.dir,
      host: r.host,
      pid: Number(r.pid),
      openedAt: r.opened_at,
      expiresAt: r.expires_at,
      plaintext: Number(r.plaintext) === 1,
    }));
  }

  async count(): Promise<number> {
    const r = await this.state.db
      .selectFrom("leases")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  private async insert(items: OpenLease[]): Promise<undefined[]> {
    const host = hostname();
    await this.state.db.transaction().execute(async (trx) => {
      await this.ledger.recordInTx(
        trx,
        items.map(
          (l): EntryInput => ({
            action: "workspace_opened",
            key: l.requestId,
            runId: l.id,
            data: {
              workspace: l.id,
              expiresAt: l.expiresAt.toISOString(),
              ttlMs: l.expiresAt.getTime() - l.openedAt.getTime(),
            },
          }),
        ),
      );
      await trx
        .insertInto("leases")
        .values(
          items.map((l) => ({
            id: l.id,
            request_hash: this.requestHash(l.requestId),
            dir: l.dir,
            host,
            pid: process.pid,
            opened_at: l.openedAt.toISOString(),
            expires_at: l.expiresAt.toISOString(),
            plaintext: 0,
          })),
        )
        .execute();
    });
    return items.map(() => undefined);
  }

  private async remove(items: CloseLease[]): Promise<undefined[]> {
    await this.state.db.transaction().execute(async (trx) => {
      await this.ledger.recordInTx(
        trx,
        items.map(
          (c): EntryInput => ({
            action: "workspace_closed",
            ...(c.requestId !== undefined ? { key: c.requestId } : {}),
            // The janitor knows only the stored hash; keep it in data so the entry still links to the request.
            runId: c.id,
            reason: c.reason,
            data: { workspace: c.id, ...(c.requestHash ? { requestHash: c.requestHash } : {}), ...c.data },
          }),
        ),
      );
      await trx
        .deleteFrom("leases")
        .where(
          "id",
          "in",
          items.map((c) => c.id),
        )
        .execute();
    });
    return items.map(() => undefined);
  }
}

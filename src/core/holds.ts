import { randomUUID } from "node:crypto";
import type { DatasetConfig } from "../config/types.js";
import type { Executor } from "../executor/executor.js";
import type { StateHandle } from "../state/open-state.js";
import { LetheError } from "./errors.js";
import { canonicalSubjectFor } from "./keys/subject-rules.js";

export interface Hold {
  id: string;
  subjectHash?: string;
  dataset?: string;
  reason: string;
  until?: string;
}

export interface ActiveHolds {
  subjects: Map<string, Hold>;
  datasets: Map<string, Hold>;
}

/**
 * Legal holds: a held subject's (or dataset's) items are never deleted while
 * the hold is active. The subject is kept only as its HMAC, like the ledger.
 *
 * @example
 * const id = await holds.add({ subject: "user-42", reason: "litigation #7" });
 */
export class Holds {
  constructor(
    private readonly state: StateHandle,
    private readonly ledger: Executor,
    /** The configured datasets: a subject id one of them cannot tell apart is refused (it would not be held there). */
    private readonly datasets: () => Iterable<DatasetConfig> = () => [],
  ) {}

  async add(h: { subject?: string; dataset?: string; reason: string; until?: Date }): Promise<string> {
    if ((h.subject === undefined) === (h.dataset === undefined))
      throw new LetheError("USAGE", "a hold names exactly one of --subject or --dataset");
    if (!h.reason.trim()) throw new LetheError("USAGE", "a hold needs a --reason");
    if (h.until !== undefined && !(h.until.getTime() > Date.now()))
      throw new LetheError("VALIDATION", "--until must be a date in the future: this hold would never be active");
    const id = `hold_${randomUUID().slice(0, 8)}`;
    if (h.subject !== undefined) h = { ...h, subject: canonicalSubjectFor(this.datasets(), h.subject, "subject") };
    const subjectHash = h.subject !== undefined ? this.ledger.subjectHash(h.subject) : null;
    const reason = this.ledger.scrubText(h.reason, [h.subject]);
    const entry = { action: "hold_added" as const, subjectHash: subjectHash ?? undefined, dataset: h.dataset, reason };
    await this.ledger.changeHolds({ ...entry, data: { holdId: id, until: h.until?.toISOString() } }, async (trx) => {
      await trx
        .insertInto("holds")
        .values({
          id,
          subject_hash: subjectHash,
          dataset: h.dataset ?? null,
          reason,
          until: h.until?.toISOString() ?? null,
          created_at: new Date().toISOString(),
          released_at: null,
        })
        .execute();
    });
    return id;
  }

  async release(id: string): Promise<void> {
    const hold = await this.state.db
      .selectFrom("holds")
      .selectAll()
      .where("id", "=", id)
      .where("released_at", "is", null)
      .executeTakeFirst();
    if (!hold) throw new LetheError("NOT_FOUND", `no active hold with id ${id}`);
    const entry = {
      action: "hold_released" as const,
      subjectHash: hold.subject_hash ?? undefined,
      dataset: hold.dataset ?? undefined,
      reason: hold.reason,
      data: { holdId: id },
    };
    await this.ledger.changeHolds(entry, async (trx) => {
      await trx.updateTable("holds").set({ released_at: new Date().toISOString() }).where("id", "=", id).execute();
    });
  }

  async list(now = new Date()): Promise<Hold[]> {
    // Checked against their seal first: a row deleted or edited outside lethe must not lift a hold.
    const rows = (await this.ledger.verifiedHolds())
      // ISO-8601 UTC strings order like the instants they name.
      .filter((r) => r.until === null || r.until > now.toISOString())
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    return rows.map((r) => ({
      id: r.id,
      reason: r.reason,
      ...(r.subject_hash ? { subjectHash: r.subject_hash } : {}),
      ...(r.dataset ? { dataset: r.dataset } : {}),
      ...(r.until ? { until: r.until } : {}),
    }));
  }

  async active(now = new Date()): Promise<ActiveHolds> {
    const out: ActiveHolds = { subjects: new Map(), datasets: new Map() };
    for (const h of await this.list(now)) {
      if (h.subjectHash) out.subjects.set(h.subjectHash, h);
      if (h.dataset) out.datasets.set(h.dataset, h);
    }
    return out;
  }
}

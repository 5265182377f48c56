import { BATCH_DATA_PREFIX } from "../ledger/item-query.js";
import type { StateHandle } from "../state/open-state.js";

/** Ledger actions counted per dataset for `/metrics`. */
export const TALLIED = ["deleted", "shredded", "held", "failed", "janitor_found", "run_missed", "ttl_set"] as const;
export type Tallied = (typeof TALLIED)[number];

/**
 * Running totals of ledger entries by (action, dataset), read incrementally:
 * each refresh scans only the entries appended since the last one (a range
 * on the primary key), so scrapes stay cheap on a ledger of millions.
 * Derived from the shared ledger, the totals are the same on every instance.
 *
 * @example
 * const tally = new LedgerTally(state); await tally.refresh(); tally.get("deleted");
 */
export class LedgerTally {
  private seq = 0;
  private readonly totals = new Map<Tallied, Map<string, number>>(TALLIED.map((a) => [a, new Map()]));

  constructor(private readonly state: StateHandle) {}

  /** Reads entries appended since the last refresh; returns the ledger size. */
  async refresh(): Promise<number> {
    const head = await this.state.db
      .selectFrom("ledger_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    const size = Number(head.seq);
    if (size <= this.seq) return size;
    const rows = await this.state.db
      .selectFrom("ledger")
      .select((eb) => ["action", "dataset", eb.fn.countAll<number>().as("n")])
      .where("seq", ">", this.seq)
      .where("seq", "<=", size)
      .where("action", "in", [...TALLIED])
      // A v2 batch entry counts as its items (below), not as one.
      .where((eb) => eb.or([eb("data", "is", null), eb("data", "not like", `${BATCH_DATA_PREFIX}%`)]))
      .groupBy(["action", "dataset"])
      .execute();
    const items = await this.state.db
      .selectFrom("ledger_items as i")
      .innerJoin("ledger as l", "l.seq", "i.seq")
      .select((eb) => ["l.action", "l.dataset", eb.fn.countAll<number>().as("n")])
      .where("i.seq", ">", this.seq)
      .where("i.seq", "<=", size)
      .groupBy(["l.action", "l.dataset"])
      .execute();
    for (const r of [...rows, ...items]) {
      const byDataset = this.totals.get(r.action as Tallied);
      const key = r.dataset ?? "";
      byDataset?.set(key, (byDataset.get(key) ?? 0) + Number(r.n));
    }
    this.seq = size;
    return size;
  }

  /** Totals per dataset ("" for entries without one). */
  get(action: Tallied): Map<string, number> {
    return this.totals.get(action) ?? new Map();
  }
}

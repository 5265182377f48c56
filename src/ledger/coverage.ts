import type { Kysely } from "kysely";
import type { StateDatabase } from "../state/schema.js";

/** Entries that no signed checkpoint covered for longer than `ledger.checkpointEvery`. */
export interface UncoveredStretch {
  /** First and last entry of the stretch. */
  from: number;
  to: number;
  entries: number;
  /** When its first entry was recorded. */
  since: string;
  /** When a checkpoint finally covered it; absent for the ledger's uncovered tail. */
  checkpointedAt?: string;
}

/** Reported stretches are capped; `more` counts the rest. */
const MAX_REPORTED = 20;

/**
 * Finds the stretches of entries that waited longer than the checkpoint
 * interval for a signed checkpoint: between two checkpoints (one expected in
 * between was never made, or was deleted) and at the tail. Fed the entries and
 * checkpoints in order while the ledger is scanned; memory is bounded.
 *
 * @example
 * const t = await CoverageTracker.start(db, 86_400_000, start, Date.now()); t.entry(seq, at); t.checkpoint(size, at); t.finish(head);
 */
export class CoverageTracker {
  readonly stretches: UncoveredStretch[] = [];
  more = 0;
  private firstAt: string | undefined;

  private constructor(
    private readonly everyMs: number,
    private covered: number,
    private readonly nowMs: number,
  ) {}

  /** `covered`: what the anchor or a checkpoint at or below the scan's start already covers. */
  static async start(db: Kysely<StateDatabase>, everyMs: number, start: number, covered: number, nowMs: number) {
    const cp = await db
      .selectFrom("checkpoints")
      .select((eb) => eb.fn.max("size").as("s"))
      .where("size", "<=", start)
      .executeTakeFirst();
    const t = new CoverageTracker(everyMs, Math.max(covered, Number(cp?.s ?? 0)), nowMs);
    // The stretch may have begun before the scan's start (incremental runs): its first entry's time.
    if (t.covered < start) {
      const first = await db
        .selectFrom("ledger")
        .select("at")
        .where("seq", "=", t.covered + 1)
        .executeTakeFirst();
      t.firstAt = first?.at;
    }
    return t;
  }

  entry(seq: number, at: string): void {
    if (seq === this.covered + 1) this.firstAt = at;
  }

  checkpoint(size: number, at: string): void {
    if (size <= this.covered) return;
    if (this.firstAt !== undefined && Date.parse(at) - Date.parse(this.firstAt) > this.everyMs)
      this.report({
        from: this.covered + 1,
        to: size,
        entries: size - this.covered,
        since: this.firstAt,
        checkpointedAt: at,
      });
    this.covered = size;
    this.firstAt = undefined;
  }

  finish(head: number): void {
    if (head > this.covered && this.firstAt !== undefined && this.nowMs - Date.parse(this.firstAt) > this.everyMs)
      this.report({ from: this.covered + 1, to: head, entries: head - this.covered, since: this.firstAt });
  }

  private report(s: UncoveredStretch): void {
    if (this.stretches.length < MAX_REPORTED) this.stretches.push(s);
    else this.more += 1;
  }
}

import { type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { entryHash } from "../../src/ledger/canonical.js";
import type { StateDatabase } from "../../src/state/schema.js";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): a writer of the state database, without the master key, inserted a ledger entry with a
// correct SHA-256 chain right after the head and left the head alone. audit verify caught it, but the next append
// (every run's run_started) died on a bare UNIQUE constraint (INTERNAL, exit 1, a stack trace) instead of refusing
// as tampering (AUDIT_FAILED, exit 4), the way item rows planted beyond the head are refused.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Inserts an entry chained to the head's hash at head + 1, head (and its MAC) untouched. */
async function plantEntry(db: Kysely<StateDatabase>): Promise<number> {
  const h = await db.selectFrom("ledger_head").select(["seq", "hash"]).executeTakeFirstOrThrow();
  const row = {
    seq: Number(h.seq) + 1,
    at: new Date().toISOString(),
    action: "hold_released",
    dataset: null,
    item_key: null,
    key_hash: null,
    subject_hash: null,
    reason: "planted",
    run_id: null,
    data: null,
  };
  await db
    .insertInto("ledger")
    .values({ ...row, prev_hash: h.hash, hash: entryHash(h.hash, row) })
    .execute();
  return row.seq;
}

function cases(state: () => Promise<string>) {
  it("an entry planted beyond the head fails verification and every append, as tampering", async () => {
    const p = ledgerProject(await state(), (c) => cleanups.push(c));
    const l = await p.open();
    await l.ledger.append([{ action: "deleted", dataset: "logs", key: 1, subject: "user-1" }]);
    await l.audit.checkpoint();
    const seq = await plantEntry(l.state.db);
    for (const full of [false, true]) {
      const r = await l.audit.verify({ full });
      expect(r).toMatchObject({ ok: false, firstBad: seq });
      expect(r.reason).toMatch(/beyond the ledger head/);
    }
    await expect(l.ledger.append([{ action: "hold_added", reason: "x" }])).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(
        /ledger entries were planted beyond the ledger head \(at entry 2, the head is 1\)/,
      ),
    });
    const n = await sql<{ n: number }>`select count(*) as n from ledger`.execute(l.state.db);
    expect(Number(n.rows[0]?.n)).toBe(2);
  });

  // Same writer, a checkpoint row with a garbage signature at a size the ledger has not reached: verification
  // called it "a signed checkpoint … it was truncated", sending the operator after entries that were never lost.
  it("an unsigned checkpoint planted beyond the head is reported as a bad checkpoint, not as truncation", async () => {
    const p = ledgerProject(await state(), (c) => cleanups.push(c));
    const l = await p.open();
    await l.ledger.append([{ action: "hold_added", reason: "x" }]);
    await l.audit.checkpoint();
    await l.state.db
      .insertInto("checkpoints")
      .values({ size: 5, root: "aa".repeat(32), at: new Date().toISOString(), signature: "AAAA", key_id: null })
      .execute();
    for (const full of [false, true]) {
      const r = await l.audit.verify({ full });
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/checkpoint at size 5 \(beyond the ledger's 1 entries\) has an invalid signature/);
    }
  });
}

describe("rows planted beyond the ledger head, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("rows planted beyond the ledger head, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

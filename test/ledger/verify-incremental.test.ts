import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { ledgerProject, pgState } from "./helpers.js";

// Incremental verification (issue 9 item 2): only entries after the last verified mark are read, `full`
// re-reads everything; checkpoints are signed only over entries that verified, and deleted or missing
// checkpoints are reported. Each case runs in-process and in the worker thread (which loads dist/: build first).
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// `held` stays one entry per item (ledger v2 folds deletions into one batch entry per append): n entries.
const entries = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({ action: "held" as const, dataset: "logs", key: from + i }));

/** What a writer of the state database does: switch the append-only guards off and edit. */
async function tamper(l: Lethe, statement: string): Promise<void> {
  const pg = l.state.dialect.name === "postgres";
  const tables = ["ledger", "checkpoints"];
  for (const t of tables)
    await sql
      .raw(pg ? `alter table ${t} disable trigger ${t}_append_only` : `drop trigger if exists ${t}_no_update`)
      .execute(l.state.db);
  if (!pg) for (const t of tables) await sql.raw(`drop trigger if exists ${t}_no_delete`).execute(l.state.db);
  await sql.raw(statement).execute(l.state.db);
}

async function cases(state: () => Promise<string>) {
  for (const worker of [false, true]) {
    const mode = worker ? "worker thread" : "in process";

    it(`${mode}: reads only new entries, catches tampering in them; --full catches it in old ones`, async () => {
      const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
      await l.ledger.append(entries(1200, 0));
      const first = await l.audit.verify({ record: true, worker });
      expect(first).toMatchObject({ ok: true, entries: 1200, full: true, from: 0, read: 1200 });
      await l.ledger.append(entries(30, 5000));
      // Without the mark every entry would be read again.
      expect(await l.audit.verify({ record: true, worker })).toMatchObject({
        ok: true,
        entries: 1230,
        full: false,
        from: 1200,
        read: 30,
      });
      // A GET-style run (no record) leaves the mark where it was.
      await l.ledger.append(entries(5, 9000));
      expect(await l.audit.verify({ worker })).toMatchObject({ ok: true, from: 1230, read: 5 });
      expect(await l.audit.verify({ worker })).toMatchObject({ ok: true, from: 1230, read: 5 });

      await tamper(l, "update ledger set reason = 'edited' where seq = 17");
      // Entry 17 was verified before: the incremental pass does not read it again, the full pass does.
      expect(await l.audit.verify({ worker })).toMatchObject({ ok: true, read: 5 });
      const full = await l.audit.verify({ full: true, worker });
      expect(full).toMatchObject({ ok: false, firstBad: 17, full: true });
      expect(full.reason).toMatch(/altered/);

      await tamper(l, "update ledger set reason = 'edited' where seq = 1233");
      const inc = await l.audit.verify({ worker });
      expect(inc).toMatchObject({ ok: false, firstBad: 1233, full: false });
      // Nor is a checkpoint signed over it.
      const before = await l.state.db.selectFrom("checkpoints").select("size").execute();
      await expect(l.audit.checkpoint()).rejects.toMatchObject({ code: "AUDIT_FAILED" });
      expect(await l.state.db.selectFrom("checkpoints").select("size").execute()).toEqual(before);
    });

    it(`${mode}: a deleted checkpoint and a stretch without one are reported`, async () => {
      const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
      await l.ledger.append(entries(40, 0));
      const cp1 = await l.audit.checkpoint();
      await l.ledger.append(entries(40, 100));
      const cp2 = await l.audit.checkpoint();
      expect([cp1.size, cp2.size]).toEqual([40, 80]);
      await l.ledger.append(entries(7, 200));
      const later = new Date(Date.now() + 2 * 86_400_000);
      // Entries 81–87 have no checkpoint; two days later that is past ledger.checkpointEvery (25h).
      const tail = await l.audit.verify({ worker, now: later });
      expect(tail).toMatchObject({ ok: true, uncovered: [{ from: 81, to: 87, entries: 7 }] });
      expect(tail.uncovered?.[0]?.checkpointedAt).toBeUndefined();
      expect((await l.audit.verify({ worker })).uncovered).toEqual([]);

      await tamper(l, "delete from checkpoints where size = 40");
      for (const full of [false, true]) {
        const r = await l.audit.verify({ worker, full });
        expect(r.ok).toBe(false);
        expect(r.reason).toMatch(/1 signed checkpoint\(s\) covering entries up to 80 were deleted/);
      }
    });

    it(`${mode}: a checkpoint replaced by an unsigned placeholder fails the incremental pass`, async () => {
      const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
      await l.ledger.append(entries(10, 0));
      await l.audit.checkpoint();
      await l.ledger.append(entries(10, 100));
      await l.audit.checkpoint();
      expect(await l.audit.verify({ worker, record: true })).toMatchObject({ ok: true, full: false });
      // Same number of rows, so counting them is not enough (QA issue 9).
      await tamper(l, "delete from checkpoints where size = 10");
      await tamper(
        l,
        `insert into checkpoints (size, root, at, signature) values (5, '${"ab".repeat(32)}', '2026-01-01T00:00:00.000Z', 'AAAA')`,
      );
      for (const full of [false, true]) {
        const r = await l.audit.verify({ worker, full });
        expect(r.ok).toBe(false);
        expect(r.reason).toMatch(/checkpoint at size 5 has an invalid signature/);
      }
    });

    it(`${mode}: a break found by a recording pass stays reported and blocks signing until a full pass succeeds`, async () => {
      const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
      await l.ledger.append(entries(20, 0));
      await l.audit.checkpoint();
      await l.ledger.append(entries(5, 100));
      const reason = async () =>
        (await l.state.db.selectFrom("ledger").select("reason").where("seq", "=", 3).executeTakeFirstOrThrow()).reason;
      const original = await reason();
      await tamper(l, "update ledger set reason = 'manual' where seq = 3");
      expect(await l.audit.verify({ worker, full: true, record: true })).toMatchObject({ ok: false, firstBad: 3 });
      // The incremental pass starts after the mark (entry 3 is before it): the recorded break answers.
      const inc = await l.audit.verify({ worker, record: true });
      expect(inc).toMatchObject({ ok: false, firstBad: 3 });
      expect(inc.reason).toMatch(/altered .*stays reported/);
      await l.ledger.append(entries(1, 200));
      await expect(l.audit.checkpoint()).rejects.toMatchObject({ code: "AUDIT_FAILED" });
      expect((await l.state.db.selectFrom("checkpoints").select("size").execute()).map((c) => Number(c.size))).toEqual([
        20,
      ]);
      // Once the ledger is whole again (here: the edit undone; in practice a restored backup) a full pass clears it.
      await tamper(l, `update ledger set reason = ${original === null ? "null" : `'${original}'`} where seq = 3`);
      expect(await l.audit.verify({ worker, record: true })).toMatchObject({ ok: false, firstBad: 3 });
      expect(await l.audit.verify({ worker, full: true, record: true })).toMatchObject({ ok: true, entries: 26 });
      expect(await l.audit.verify({ worker })).toMatchObject({ ok: true, full: false });
      expect((await l.audit.checkpoint()).size).toBe(26);
    });
  }
}

describe("incremental ledger verification, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("incremental ledger verification, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

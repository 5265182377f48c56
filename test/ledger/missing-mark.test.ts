import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): a writer of the state database, without the master key, deleted every stored checkpoint
// and the verified mark. `audit verify` then answered "Ledger OK … 0 signed checkpoint(s)" with no note at all
// (a mark that fails its MAC gets one), so the deletion left no trace until the coverage warning, a day later.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function cases(state: () => Promise<string>) {
  it("a verification without a stored mark says so", async () => {
    const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
    await l.ledger.append([{ action: "hold_added", reason: "x" }]);
    await l.audit.checkpoint();
    expect((await l.audit.verify({ record: true })).notes).toBeUndefined();
    const pg = l.state.dialect.name === "postgres";
    await sql
      .raw(
        pg ? "alter table checkpoints disable trigger checkpoints_append_only" : "drop trigger checkpoints_no_delete",
      )
      .execute(l.state.db);
    await sql`delete from checkpoints`.execute(l.state.db);
    await sql`delete from server_status where key = 'ledger_verified_mark'`.execute(l.state.db);
    const r = await l.audit.verify({ record: true });
    expect(r).toMatchObject({ ok: true, checkpoints: 0 });
    expect(r.notes).toEqual([expect.stringMatching(/no verification mark was stored .*or the mark was deleted/)]);
  });
}

describe("no verified mark, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("no verified mark, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

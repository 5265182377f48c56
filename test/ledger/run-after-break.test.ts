import { join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, ts } from "../helpers/project.js";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): once a verification had recorded a break, every run still deleted and wrote its
// `run_finished` (ok), then the end-of-run checkpoint was refused (right) but the run row stayed `running`, so
// the next start recorded a second `run_finished` for the same run, "crashed: its process is gone": two
// contradictory outcomes on an append-only ledger, and `runs` said crashed for a run that finished.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function cases(state: () => Promise<string>) {
  it("a run whose checkpoint is refused is closed once, with its own status", async () => {
    const p = ledgerProject(await state(), (c) => cleanups.push(c));
    const app = new Database(join(p.dir, "app.db"));
    const old = ts(new Date(Date.now() - 40 * DAY_MS));
    const insert = app.prepare("insert into logs (id, user_id, prompt, created_at) values (?, ?, 'p', ?)");
    const fresh = ts(new Date());
    for (let id = 1; id <= 12; id++) insert.run(id, `user-${id}`, id <= 6 ? old : fresh);
    const l = await p.open();
    await l.ledger.append([{ action: "plan", reason: "x" }]);
    await l.audit.checkpoint();
    // A writer of the state edits a verified entry; a recording full pass finds and keeps the break.
    const pg = l.state.dialect.name === "postgres";
    await sql
      .raw(pg ? "alter table ledger disable trigger ledger_append_only" : "drop trigger ledger_no_update")
      .execute(l.state.db);
    await sql`update ledger set reason = 'edited' where seq = 1`.execute(l.state.db);
    expect(await l.audit.verify({ full: true, record: true })).toMatchObject({ ok: false, firstBad: 1 });

    await expect(l.apply()).rejects.toMatchObject({ code: "AUDIT_FAILED" });
    app.close();
    const runs = await l.state.db.selectFrom("runs").select(["id", "status"]).where("kind", "=", "retention").execute();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe("ok");
    await l.close();
    // The next start finds no run left open.
    const again = await p.open();
    await again.executor.reconcile();
    const finished = await again.state.db
      .selectFrom("ledger")
      .select("reason")
      .where("action", "=", "run_finished")
      .where("run_id", "=", runs[0]?.id ?? "")
      .execute();
    expect(finished.map((f) => f.reason)).toEqual(["ok"]);
  });
}

describe("a run after a recorded break, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("a run after a recorded break, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

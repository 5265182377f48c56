import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { lethe } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

interface Entry {
  action: string;
  runId?: string;
  reason?: string;
}

// Found by QA (SIGKILL loop on `lethe erase`): a run was recorded `run_finished … ok`, the process died before
// its row left `running`, and the next start closed it again as crashed: two outcomes for one run. The entry and
// the row's status now commit together. A state write refused right after the entry is the same cut, made
// deterministic by a trigger on the runs table.
describe("a run is closed exactly once", () => {
  it("when its row cannot be closed, neither is its entry; the next start closes it once", () => {
    const p = makeProject({ safety: 1 });
    expect(lethe(["plan", "--json"], p.dir).code).toBe(0);
    const statePath = join(p.dir, ".lethe", "state.db");
    const st = new Database(statePath);
    st.exec(`create trigger qa_cut before update of status on runs when new.status <> 'running'
      begin select raise(abort, 'cut before the run row closed'); end`);
    st.close();

    const cut = lethe(["apply", "--json"], p.dir);
    expect(cut.code).not.toBe(0);

    const st2 = new Database(statePath);
    st2.exec("drop trigger qa_cut");
    st2.close();
    const next = lethe(["apply", "--json"], p.dir);
    expect(next.code, next.stderr).toBe(0);

    const ex = lethe(["audit", "export", "--format", "jsonl"], p.dir);
    expect(ex.code).toBe(0);
    const entries = ex.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry);
    const started = entries.filter((e) => e.action === "run_started").map((e) => e.runId);
    expect(started.length).toBe(2);
    for (const runId of started) {
      const finished = entries.filter((e) => e.action === "run_finished" && e.runId === runId);
      expect(finished.map((e) => e.reason)).toHaveLength(1);
    }
    const cutRun = entries.filter((e) => e.action === "run_finished" && e.runId === started[0]);
    expect(cutRun[0]?.reason).toMatch(/^crashed/);
    const rows = new Database(statePath, { readonly: true });
    const running = rows.prepare("select count(*) as n from runs where status = 'running'").get() as { n: number };
    rows.close();
    expect(running.n).toBe(0);
    expect(lethe(["audit", "verify", "--full"], p.dir).code).toBe(0);
  });
  // Found by QA too: a process killed after its run row was inserted but before `run_started` was appended left a
  // row the next start closed with `run_finished` (crashed), for a run the ledger never saw start. A refused
  // `run_started` is that cut, deterministically: the row and the entry now commit together, or neither.
  it("a run whose run_started is not recorded leaves no row and no run_finished", () => {
    const p = makeProject({ safety: 1 });
    expect(lethe(["plan", "--json"], p.dir).code).toBe(0);
    const statePath = join(p.dir, ".lethe", "state.db");
    const st = new Database(statePath);
    st.exec(`create trigger qa_cut before insert on ledger when new.action = 'run_started'
      begin select raise(abort, 'cut before run_started'); end`);
    st.close();
    expect(lethe(["apply", "--json"], p.dir).code).not.toBe(0);
    const st2 = new Database(statePath);
    st2.exec("drop trigger qa_cut");
    st2.close();
    const next = lethe(["apply", "--json"], p.dir);
    expect(next.code, next.stderr).toBe(0);

    const entries = lethe(["audit", "export", "--format", "jsonl"], p.dir)
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry);
    const started = new Set(entries.filter((e) => e.action === "run_started").map((e) => e.runId));
    const finished = entries.filter((e) => e.action === "run_finished").map((e) => e.runId);
    expect(started.size).toBe(1);
    expect(finished).toHaveLength(1);
    for (const runId of finished) expect(started.has(runId)).toBe(true);
    const rows = new Database(statePath, { readonly: true });
    const all = rows.prepare("select status from runs").all() as { status: string }[];
    rows.close();
    expect(all.map((r) => r.status)).toEqual(["ok"]);
  });
});

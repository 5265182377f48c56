import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { makeProject } from "../helpers/project.js";
import { openProject } from "../server/helpers.js";

describe("runs are always closed (executor withRun)", () => {
  const open: Lethe[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
  });

  it("a retention run that throws mid-run still gets run_finished and a failed run row", async () => {
    const p = makeProject();
    const lethe = await openProject(p);
    open.push(lethe);
    // The table disappears under lethe after the first batch: the next scan fails inside the run.
    const dropTable = () => {
      const db = new Database(p.db);
      db.exec("drop table logs");
      db.close();
    };
    let dropped = false;
    const onProgress = (p: { done: number }) => {
      if (p.done > 0 && !dropped) {
        dropped = true;
        dropTable();
      }
    };
    await expect(lethe.apply({ onProgress })).rejects.toThrow(/no such table/);
    const run = await lethe.state.db.selectFrom("runs").selectAll().where("kind", "=", "retention").executeTakeFirst();
    expect(run).toMatchObject({ status: "failed" });
    expect(run?.finished_at).not.toBeNull();
    const entries = await lethe.audit.log({ runId: run?.id as string });
    expect(entries.map((e) => e.action)).toEqual(["run_started", ...Array(7).fill("deleted"), "run_finished"]);
    expect(entries.at(-1)?.reason).toMatch(/^error: /);
  });

  it("the janitor's pass is a run on the ledger too", async () => {
    const p = makeProject();
    const lethe = await openProject(p);
    open.push(lethe);
    const r = await lethe.janitor({ graceSeconds: 0 });
    const actions = (await lethe.audit.log({ runId: r.runId })).map((e) => e.action);
    expect(actions[0]).toBe("run_started");
    expect(actions.at(-1)).toBe("run_finished");
    expect(actions.filter((a) => a === "janitor_found")).toHaveLength(20);
  });
});

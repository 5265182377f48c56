import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { DAY_MS, ids, makeProject, ts } from "../helpers/project.js";
import { until } from "../helpers/wait.js";

interface PlanJson {
  planId: string;
  at: string;
  datasets: { name: string; store: string; total: number; expired: number; held: number }[];
}
interface ApplyJson {
  runId: string;
  datasets: { name: string; expired: number; deleted: number; held: number; failed: number; filesRemoved: number }[];
}

describe("plan and apply through the CLI", () => {
  it("plan is a dry run with the documented JSON shape; apply deletes exactly the expired rows", async () => {
    const p = makeProject({ logs: 40 });
    const plan = await letheIn(["plan", "--json"], p.dir);
    expect(plan.code).toBe(0);
    const pj = plan.json as PlanJson;
    expect(pj.planId).toMatch(/^plan_/);
    expect(Number.isNaN(Date.parse(pj.at))).toBe(false);
    expect(pj.datasets).toEqual([
      { name: "logs", store: "appdb", total: 40, expired: 20, held: 0 },
      { name: "training", store: "appdb", total: 0, expired: 0, held: 0 },
    ]);
    expect(ids(p.db, "logs")).toHaveLength(40); // nothing touched
    const apply = await letheIn(["apply", "--json"], p.dir);
    expect(apply.code).toBe(0);
    const aj = apply.json as ApplyJson;
    expect(aj.runId).toMatch(/^run_/);
    expect(aj.datasets[0]).toMatchObject({
      name: "logs",
      expired: 20,
      deleted: 20,
      held: 0,
      failed: 0,
      filesRemoved: 0,
    });
    expect(ids(p.db, "logs")).toEqual(p.freshLogs);
    // One entry per deleted row, and the ledger verifies.
    const log = (await letheIn(["audit", "log", "--run", aj.runId, "--json"], p.dir)).json as {
      entries: { action: string }[];
    };
    expect(log.entries.filter((e) => e.action === "deleted")).toHaveLength(20);
    expect((await letheIn(["audit", "verify", "--json"], p.dir)).json).toMatchObject({ ok: true });
  });

  it("apply --plan deletes only that plan's items that are still expired, never more", async () => {
    const p = makeProject({ logs: 20 });
    const planFile = join(p.dir, "plan.json");
    expect((await letheIn(["plan", "--out", planFile], p.dir)).code).toBe(0);
    const db = new Database(p.db);
    // After review: a new expired row appears (not in the plan) and a planned row is refreshed.
    db.prepare("insert into logs values (999, 'user-9', 'late', ?)").run(ts(new Date(Date.now() - 50 * DAY_MS)));
    db.prepare("update logs set created_at = ? where id = ?").run(ts(new Date()), p.expiredLogs[0]);
    db.close();
    const r = await letheIn(["apply", "--plan", planFile, "--json"], p.dir);
    expect(r.code).toBe(0);
    const left = ids(p.db, "logs");
    expect(left).toContain(999);
    const refreshed = p.expiredLogs[0] as number;
    expect(left).toContain(refreshed);
    expect(left.sort((a, b) => a - b)).toEqual([...p.freshLogs, refreshed, 999].sort((a, b) => a - b));
  });

  it("refuses a modified plan file and a plan made under another policy (exit 3)", async () => {
    const p = makeProject({ logs: 10 });
    const planFile = join(p.dir, "plan.json");
    await letheIn(["plan", "--out", planFile], p.dir);
    const plan = JSON.parse(readFileSync(planFile, "utf8"));
    plan.datasets[0].items.push(1, 3, 5);
    writeFileSync(join(p.dir, "tampered.json"), JSON.stringify(plan));
    const t = await letheIn(["apply", "--plan", "tampered.json"], p.dir);
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/modified/);
    const cfg = readFileSync(join(p.dir, "lethe.yaml"), "utf8").replace("retention: 30d", "retention: 20d");
    writeFileSync(join(p.dir, "lethe.yaml"), cfg);
    const s = await letheIn(["apply", "--plan", planFile], p.dir);
    expect(s.code).toBe(3);
    expect(s.stderr).toMatch(/configuration changed/);
    expect(ids(p.db, "logs")).toHaveLength(10);
  });

  it("stops at the safety limit with exit 3 and nothing deleted; --force goes through", async () => {
    const p = makeProject({ logs: 10, expiredEvery: 1, safety: 0.5 });
    const r = await letheIn(["apply"], p.dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/logs: 10 of 10/);
    expect(ids(p.db, "logs")).toHaveLength(10);
    expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
    expect(ids(p.db, "logs")).toHaveLength(0);
  });

  it("respects subject and dataset holds, recording every skip", async () => {
    const p = makeProject({ logs: 20 });
    const add = await letheIn(["hold", "add", "--subject", "user-0", "--reason", "litigation 7", "--json"], p.dir);
    expect(add.code).toBe(0);
    const holdId = (add.json as { id: string }).id;
    const held = p.expiredLogs.filter((i) => i % 5 === 0);
    const plan = (await letheIn(["plan", "--json"], p.dir)).json as PlanJson;
    expect(plan.datasets[0]?.held).toBe(held.length);
    const r = (await letheIn(["apply", "--json"], p.dir)).json as ApplyJson;
    expect(r.datasets[0]).toMatchObject({ deleted: p.expiredLogs.length - held.length, held: held.length });
    expect(ids(p.db, "logs")).toEqual([...p.freshLogs, ...held].sort((a, b) => a - b));
    const log = (await letheIn(["audit", "log", "--subject", "user-0", "--json"], p.dir)).json as {
      entries: { action: string; reason?: string }[];
    };
    expect(log.entries.filter((e) => e.action === "held")).toHaveLength(held.length);
    expect(log.entries.find((e) => e.action === "held")?.reason).toContain("litigation 7");
    const list = (await letheIn(["hold", "list", "--json"], p.dir)).json as {
      holds: { id: string; subjectHash?: string; reason: string }[];
    };
    expect(list.holds).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain("user-0");
    expect((await letheIn(["hold", "release", holdId], p.dir)).code).toBe(0);
    await letheIn(["hold", "add", "--dataset", "logs", "--reason", "audit freeze"], p.dir);
    const again = (await letheIn(["apply", "--json"], p.dir)).json as ApplyJson;
    expect(again.datasets[0]).toMatchObject({ deleted: 0, held: held.length });
  });

  it("a hold ends by itself at its --until date; one already past is refused", async () => {
    const p = makeProject({ logs: 20 });
    // A date already past is refused: that hold would never be active.
    const past = await letheIn(["hold", "add", "--subject", "user-0", "--reason", "x", "--until", "2000-01-01"], p.dir);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/--until must be a date in the future/);
    const soon = new Date(Date.now() + 1500); // in-process: the next command runs within milliseconds
    expect(
      (await letheIn(["hold", "add", "--subject", "user-0", "--reason", "ended", "--until", soon.toISOString()], p.dir))
        .code,
    ).toBe(0);
    await letheIn(["hold", "add", "--subject", "user-1", "--reason", "running", "--until", "2999-01-01"], p.dir);
    await until(async () => Date.now() > soon.getTime() + 50, 10_000); // the hold's own end date: real time
    const list = (await letheIn(["hold", "list", "--json"], p.dir)).json as { holds: { reason: string }[] };
    expect(list.holds.map((h) => h.reason)).toEqual(["running"]);
    const r = (await letheIn(["apply", "--json"], p.dir)).json as ApplyJson;
    const heldUser1 = p.expiredLogs.filter((i) => i % 5 === 1);
    expect(r.datasets[0]).toMatchObject({ held: heldUser1.length, deleted: p.expiredLogs.length - heldUser1.length });
  });

  it("keeps raw subject ids and prompts out of lethe's state files", async () => {
    const p = makeProject({ logs: 30 });
    await letheIn(["hold", "add", "--subject", "user-3", "--reason", "r"], p.dir);
    await letheIn(["apply"], p.dir);
    await letheIn(["audit", "log", "--subject", "user-2"], p.dir);
    const stateDir = join(p.dir, ".lethe");
    for (const f of readdirSync(stateDir)) {
      const bytes = readFileSync(join(stateDir, f));
      expect(bytes.includes("user-"), `${f} holds a raw subject id`).toBe(false);
      expect(bytes.includes("prompt "), `${f} holds a prompt`).toBe(false);
    }
  });

  it("an unknown --dataset is a usage error (exit 2)", async () => {
    const p = makeProject({ logs: 4 });
    const r = await letheIn(["apply", "--dataset", "nope"], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown dataset "nope"/);
  });
});

import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { letheIn, writeConfig } from "../helpers/cli.js";
import { makeProject, type Project } from "../helpers/project.js";
import { openProject } from "../server/helpers.js";

/** The project's config with `logs` given its own `safety` (YAML flow map) and the global limit. */
function configure(p: Project, logsSafety: string | undefined, globalSafety = "{ maxFraction: 0.9 }") {
  writeConfig(
    p.dir,
    `version: 1
state: ./.lethe
safety: ${globalSafety}
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  logs:
    store: appdb
    table: logs
    key: id
    subject: user_id
    createdAt: created_at
    retention: 30d
    batchSize: 7
${logsSafety ? `    safety: ${logsSafety}\n` : ""}  training: { store: appdb, table: training, key: id, createdAt: created_at, retention: 30d }
`,
  );
}

describe("safety limits per dataset (issue 11 item 3)", () => {
  const open: Lethe[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
  });
  async function openP(p: Project): Promise<Lethe> {
    const l = await openProject(p);
    open.push(l);
    return l;
  }

  it("plan says which datasets would be refused and why; the dataset's own maxFraction lets a fully expired one through", async () => {
    const p = makeProject({ expiredEvery: 1 }); // all 40 logs rows expired: 100 %
    configure(p, undefined);
    const json = JSON.parse((await letheIn(["plan", "--json"], p.dir)).stdout);
    const logs = json.datasets.find((d: { name: string }) => d.name === "logs");
    expect(logs).toMatchObject({ name: "logs", total: 40, expired: 40, held: 0 });
    expect(logs.refused).toBe("logs: 40 of 40 items (100.0% > 90%)");
    expect(json.datasets.find((d: { name: string }) => d.name === "training").refused).toBeUndefined();
    const human = (await letheIn(["plan"], p.dir)).stdout;
    expect(human).toContain("lethe apply would refuse (safety limit; review, then --force if intended):");
    expect(human).toContain("logs: 40 of 40 items (100.0% > 90%)");
    expect((await letheIn(["apply"], p.dir)).code).toBe(3);

    configure(p, "{ maxFraction: 1 }");
    expect(JSON.parse((await letheIn(["plan", "--json"], p.dir)).stdout).datasets[0].refused).toBeUndefined();
    const lethe = await openP(p);
    const r = await lethe.apply();
    expect(r.datasets.find((d) => d.name === "logs")).toMatchObject({ deleted: 40 });
  });

  it("minItems: the fraction applies only when a run would delete more than that many items", async () => {
    const p = makeProject({ expiredEvery: 1 });
    configure(p, "{ minItems: 40 }");
    let lethe = await openP(p);
    expect((await lethe.plan()).datasets[0]?.refused).toBeUndefined();
    await lethe.close();
    open.splice(0);
    configure(p, "{ minItems: 39 }");
    lethe = await openP(p);
    expect((await lethe.plan()).datasets[0]?.refused).toBe(
      "logs: 40 of 40 items (100.0% > 90%, more than minItems 39)",
    );
    await expect(lethe.apply()).rejects.toMatchObject({ code: "SAFETY_LIMIT" });
    await lethe.close();
    open.splice(0);
    // The global minItems is the default for every dataset.
    configure(p, undefined, "{ maxFraction: 0.9, minItems: 100 }");
    lethe = await openP(p);
    expect((await lethe.apply()).datasets[0]).toMatchObject({ deleted: 40 });
  });

  it("a partly applied plan is limited by the items still present, not refused above 100 %", async () => {
    const p = makeProject(); // 20 of 40 logs rows expired
    configure(p, undefined);
    const db = new Database(p.db);
    const ins = db.prepare("insert into training (id, user_id, file_path, created_at) values (?, 'u', null, ?)");
    for (let i = 1; i <= 10; i++) ins.run(i, i === 1 ? "2020-01-01 00:00:00" : new Date().toISOString());
    db.close();
    const lethe = await openP(p);
    const plan = await lethe.plan({ withItems: true });
    await lethe.apply({ plan, dataset: "logs" });
    // logs now holds 20 rows, none of the plan's: 0 to delete, not "20 of 20 (100 %)".
    const r = await lethe.apply({ plan });
    expect(r.datasets.map((d) => [d.name, d.deleted])).toEqual([
      ["logs", 0],
      ["training", 1],
    ]);
  });

  it("rejects a bad dataset safety with its key path", async () => {
    const p = makeProject();
    configure(p, "{ maxFraction: 2 }");
    const r = await letheIn(["plan"], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("datasets.logs.safety.maxFraction");
  });
});

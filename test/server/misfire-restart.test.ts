import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lethe } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { until } from "./helpers.js";
import { type ServeProcess, startServe, stateQuery } from "./serve-process.js";

// The BUILT CLI: run `npm run build` first.
const running = new Set<ServeProcess>();
afterEach(async () => {
  for (const s of running) s.signal("SIGKILL");
  await Promise.all([...running].map((s) => s.exited));
  running.clear();
});

interface Claim {
  fire_time: string;
  status: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("misfire across a restart of lethe serve", () => {
  it("a tick missed while down fires at start-up within misfireGrace; beyond it, it is recorded as run_missed", async () => {
    const p = makeProject({ extraYaml: 'schedule: "*/4 * * * * *"\nmisfireGrace: 1h\n' });
    const claims = () =>
      stateQuery<Claim>(
        p.dir,
        "select fire_time, status from schedule_claims where job = 'retention:logs' order by fire_time",
      );
    const missed = () =>
      stateQuery<{ reason: string; data: string }>(
        p.dir,
        "select reason, data from ledger where action = 'run_missed' and reason like 'retention:logs:%' order by seq",
      );
    const cycle = async (downMs: number) => {
      const s = await startServe(p.dir, { LETHE_ACCESS_LOG: "off" });
      running.add(s);
      const startedAt = Date.now();
      await until(
        async () => claims().some((c) => c.status === "ok" && Date.parse(c.fire_time) >= startedAt - 4000),
        15_000,
      );
      s.signal("SIGTERM");
      expect(await s.exited).toBe(0);
      running.delete(s);
      const downAt = Date.now();
      await sleep(downMs);
      return downAt;
    };

    // Down ~9 s with a 1 h grace: the latest missed tick runs right at start-up, older ones are superseded.
    const downAt = await cycle(9000);
    const before = claims().length;
    const s2 = await startServe(p.dir, { LETHE_ACCESS_LOG: "off" });
    running.add(s2);
    const upAt = Date.now();
    await until(async () => claims().length > before, 5000, 50);
    const whileDown = claims().filter((c) => Date.parse(c.fire_time) > downAt && Date.parse(c.fire_time) < upAt - 100);
    const ran = whileDown.filter((c) => c.status !== "missed");
    expect(ran).toHaveLength(1); // only the latest one; the one before it is on record as superseded
    expect(ran[0]?.fire_time).toBe(whileDown.at(-1)?.fire_time);
    expect(whileDown.length).toBeGreaterThanOrEqual(2);
    await until(async () => missed().length >= 1, 5000, 50);
    expect(missed(), JSON.stringify(claims())).toHaveLength(1);
    expect(JSON.parse(missed()[0]?.data ?? "{}")).toMatchObject({ job: "retention:logs" });
    expect(missed()[0]?.reason).toContain("superseded");
    s2.signal("SIGTERM");
    expect(await s2.exited).toBe(0);
    running.delete(s2);

    // With a 1 s grace, a restart after ~9 s runs none of the missed ticks and records them.
    const file = join(p.dir, "lethe.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("misfireGrace: 1h", "misfireGrace: 1s"));
    const down2 = Date.now();
    await sleep(9000);
    const spawned = Date.now();
    const s3 = await startServe(p.dir, { LETHE_ACCESS_LOG: "off" });
    running.add(s3);
    await until(async () => missed().length === 2, 5000, 50);
    // The scheduler's first look comes some time after the spawn: if a tick happened to be under 1 s old
    // then, it runs and the older ones are "superseded"; otherwise all are "not run within misfireGrace".
    expect(missed()[1]?.reason).toMatch(/not run within misfireGrace \(1s\)|superseded by the run for/);
    expect(JSON.parse(missed()[1]?.data ?? "{}").count).toBeGreaterThanOrEqual(1);
    // Nothing that was already more than the 1 s grace old at the spawn ran.
    const ranWhileDown = claims().filter(
      (c) => c.status !== "missed" && Date.parse(c.fire_time) > down2 && Date.parse(c.fire_time) < spawned - 1000,
    );
    expect(ranWhileDown).toEqual([]);
    s3.signal("SIGTERM");
    expect(await s3.exited).toBe(0);
    running.delete(s3);
    expect(lethe(["audit", "verify", "--json"], p.dir).code).toBe(0);
  }, 120_000);
});

import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { until } from "./helpers.js";
import { type ServeProcess, startServe, stateQuery } from "./serve-process.js";

// The BUILT CLI: run `npm run build` first. The scheduler's misfire policy itself is tested with an injected
// clock (scheduler.test.ts); this checks that a real `lethe serve` applies the config's misfireGrace to work
// that was due while it was down. Nothing waits on wall time: the downtime is written into the state (the job
// was registered days ago) and the schedule's last fire time is a fixed 30 minutes before the test starts.
const running = new Set<ServeProcess>();
afterEach(async () => {
  for (const s of running) s.signal("SIGKILL");
  await Promise.all([...running].map((s) => s.exited));
  running.clear();
});

const DAY_MS = 86_400_000;

/** A daily cron whose latest fire time is `agoMs` before now, and that fire time. */
function dailyAt(agoMs: number): { cron: string; last: Date } {
  const last = new Date(Date.now() - agoMs);
  last.setUTCSeconds(0, 0);
  return { cron: `${last.getUTCMinutes()} ${last.getUTCHours()} * * *`, last };
}

/** A project whose retention job was registered `days` days ago and has never run since. */
async function downSince(days: number, grace: string) {
  const { cron, last } = dailyAt(30 * 60_000);
  const p = makeProject({ extraYaml: `schedule: "${cron}"\nmisfireGrace: ${grace}\n` });
  expect((await letheIn(["hold", "list", "--json"], p.dir)).code).toBe(0); // creates and migrates the state
  const db = new Database(join(p.dir, ".lethe", "state.db"));
  db.prepare("insert into schedule_jobs (job, registered_at) values (?, ?)").run(
    "retention:logs",
    new Date(last.getTime() - days * DAY_MS - 60_000).toISOString(),
  );
  db.close();
  return { p, last };
}

const missed = (dir: string) =>
  stateQuery<{ reason: string; data: string }>(
    dir,
    "select reason, data from ledger where action = 'run_missed' and reason like 'retention:logs:%' order by seq",
  );
const claims = (dir: string) =>
  stateQuery<{ fire_time: string; status: string }>(
    dir,
    "select fire_time, status from schedule_claims where job = 'retention:logs' order by fire_time",
  );

async function serve(dir: string): Promise<ServeProcess> {
  const s = await startServe(dir, { LETHE_ACCESS_LOG: "off" });
  running.add(s);
  return s;
}

async function stop(s: ServeProcess): Promise<void> {
  s.signal("SIGTERM");
  expect(await s.exited).toBe(0);
  running.delete(s);
}

describe("misfire across a restart of lethe serve", () => {
  it("within misfireGrace the latest missed run fires at start-up; the older ones are recorded as superseded", async () => {
    const { p, last } = await downSince(2, "1h");
    const s = await serve(p.dir);
    const ran = await until(async () => claims(p.dir).find((c) => c.status === "ok"), 30_000, 50);
    expect(ran.fire_time).toBe(last.toISOString());
    await until(async () => missed(p.dir).length === 1, 10_000, 50);
    expect(missed(p.dir)[0]?.reason).toContain("superseded");
    expect(JSON.parse(missed(p.dir)[0]?.data ?? "{}")).toMatchObject({ job: "retention:logs", count: 2 });
    await stop(s);
    expect((await letheIn(["audit", "verify", "--json"], p.dir)).code).toBe(0);
  }, 60_000);

  it("beyond misfireGrace nothing missed runs; every missed fire time is recorded once", async () => {
    const { p } = await downSince(2, "10m");
    const s = await serve(p.dir);
    await until(async () => missed(p.dir).length === 1, 30_000, 50);
    expect(missed(p.dir)[0]?.reason).toMatch(/not run within misfireGrace \(600s\)/);
    expect(JSON.parse(missed(p.dir)[0]?.data ?? "{}")).toMatchObject({ job: "retention:logs", count: 3 });
    // The missed record and the decision not to run come from the same pass: no claim ran for those times.
    expect(claims(p.dir).filter((c) => c.status !== "missed")).toEqual([]);
    await stop(s);
  }, 60_000);
});

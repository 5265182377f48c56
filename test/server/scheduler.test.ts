import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, type TestContext } from "vitest";
import { openRun } from "../../src/executor/with-run.js";
import type { Lethe } from "../../src/lethe.js";
import { ManualClock } from "../../src/scheduler/clock.js";
import { cronSchedule } from "../../src/scheduler/cron.js";
import type { Job } from "../../src/scheduler/job.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { retentionJob } from "../../src/server/jobs.js";
import { ids, makeProject, type Project } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { until } from "../helpers/wait.js";
import { openProject } from "./helpers.js";

const T0 = new Date("2026-05-04T10:00:00.500Z");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function usePgState(p: Project, url: string): void {
  const file = join(p.dir, "lethe.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace("state: ./.lethe", `state: "${url}"`));
}

/**
 * A PostgreSQL state migrated once for the file (and the master key it was opened with): each test's database
 * is a copy of it (CREATE DATABASE … TEMPLATE) instead of an empty one migrated again.
 */
let pgTemplate: Promise<{ name: string; masterKey: string }> | undefined;
const dropTemplate: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of dropTemplate) await d();
});
function migratedPgState(): Promise<{ name: string; masterKey: string }> {
  pgTemplate ??= (async () => {
    const db = await createTestPgDatabase();
    dropTemplate.push(() => db.drop());
    const p = makeProject();
    usePgState(p, db.url);
    await (await openProject(p)).close();
    return { name: db.name, masterKey: join(p.dir, ".lethe", "master.key") };
  })();
  return pgTemplate;
}

async function project(
  ctx: TestContext,
  kind: "sqlite" | "postgres",
  opts: Parameters<typeof makeProject>[0] = {},
): Promise<Project> {
  const p = makeProject(opts);
  if (kind === "postgres") {
    requireService(ctx, "pg");
    const tpl = await migratedPgState();
    const db = await createTestPgDatabase({ template: tpl.name });
    cleanups.push(() => db.drop());
    usePgState(p, db.url);
    mkdirSync(join(p.dir, ".lethe"), { recursive: true });
    copyFileSync(tpl.masterKey, join(p.dir, ".lethe", "master.key"));
  }
  return p;
}

async function open(p: Project): Promise<Lethe> {
  const lethe = await openProject(p);
  cleanups.push(() => lethe.close());
  return lethe;
}

function counterJob(name: string, pattern: string, log: { job: string; fire: string; by: string }[], by: string): Job {
  return {
    name,
    schedule: cronSchedule(pattern),
    recordMissed: true,
    async run(ctx) {
      log.push({ job: name, fire: ctx.fireTime.toISOString(), by });
      return { status: "ok" };
    },
  };
}

/** A retention-like job whose first run lasts until `release()` is called; later runs end at once. */
function longFirstRun(log: { job: string; fire: string; by: string }[]): { job: Job; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const job: Job = {
    name: "retention:logs",
    dataset: "logs",
    schedule: cronSchedule("*/5 * * * * *"),
    recordMissed: true,
    async run(c) {
      log.push({ job: "slow", fire: c.fireTime.toISOString(), by: "a" });
      if (log.filter((r) => r.job === "slow").length === 1) await gate;
      return { status: "ok" };
    },
  };
  return { job, release: () => release() };
}

function scheduler(lethe: Lethe, clock: ManualClock, instance: string, jobs: Job[], graceSeconds = 3600): Scheduler {
  return new Scheduler({
    state: lethe.state,
    executor: lethe.executor,
    jobs,
    graceSeconds,
    instance,
    leaseTtlMs: 10_000,
    clock,
  });
}

async function actions(lethe: Lethe, action: string) {
  return lethe.state.db.selectFrom("ledger").selectAll().where("action", "=", action).orderBy("seq").execute();
}

describe.each(["sqlite", "postgres"] as const)("scheduler on %s state (injected clock)", (kind) => {
  it("two instances: every fire time runs exactly once, never twice, never zero", async (ctx) => {
    const p = await project(ctx, kind);
    const [la, lb] = [await open(p), await open(p)];
    const clock = new ManualClock(T0);
    const ran: { job: string; fire: string; by: string }[] = [];
    const a = scheduler(la, clock, "a", [
      counterJob("j5", "*/5 * * * * *", ran, "a"),
      counterJob("j7", "*/7 * * * * *", ran, "a"),
    ]);
    const b = scheduler(lb, clock, "b", [
      counterJob("j5", "*/5 * * * * *", ran, "b"),
      counterJob("j7", "*/7 * * * * *", ran, "b"),
    ]);
    for (let step = 0; step < 90; step++) {
      clock.advance(1000);
      // Heartbeats, then both instances' passes at once; every 25 s the leader "stalls" and the lease moves.
      if (step % 25 !== 24) {
        await Promise.all([a.lease.renew(), b.lease.renew()]);
        await Promise.all([a.tick(), b.tick()]);
      } else {
        // The stalled leader comes back only after the other instance's pass: the lease moves every time
        // (ticking both at once left it to a race the old leader sometimes won at all three stalls).
        clock.advance(11_000);
        const [stalled, other] = a.lease.epoch !== undefined ? [a, b] : [b, a];
        await other.tick();
        await stalled.tick();
      }
    }
    const claims = await la.state.db.selectFrom("schedule_claims").selectAll().execute();
    const byKey = new Map<string, number>();
    for (const r of ran) byKey.set(`${r.job}@${r.fire}`, (byKey.get(`${r.job}@${r.fire}`) ?? 0) + 1);
    expect([...byKey.values()].every((n) => n === 1)).toBe(true);
    // Every fire time of the window ran once, except those that came due together during a stall:
    // the latest of those ran and the older ones are on record as missed (superseded), never silently dropped.
    const expected = ["*/5 * * * * *", "*/7 * * * * *"].flatMap((pat, i) =>
      cronSchedule(pat)
        .between(T0, clock.now(), 1000)
        .map((t) => `${i === 0 ? "j5" : "j7"}@${t.toISOString()}`),
    );
    const missedSuperseded = claims.filter((c) => c.status === "missed");
    const ranKeys = new Set(byKey.keys());
    for (const k of expected) {
      const [job, fire] = k.split("@");
      const covered = ranKeys.has(k) || missedSuperseded.some((c) => c.job === job && c.fire_time >= (fire as string));
      expect(covered, k).toBe(true);
    }
    expect(claims.filter((c) => c.status === "ok")).toHaveLength(ran.length);
    expect(new Set(ran.map((r) => r.by)).size).toBe(2); // leadership moved at least once
  });

  it("fencing: after the lease moved, the old leader can neither renew nor claim", async (ctx) => {
    const p = await project(ctx, kind);
    const [la, lb] = [await open(p), await open(p)];
    const clock = new ManualClock(T0);
    const a = scheduler(la, clock, "a", []);
    const b = scheduler(lb, clock, "b", []);
    expect(await a.lease.tryAcquire()).toBe(true);
    expect(await b.lease.tryAcquire()).toBe(false);
    expect(await a.claims.claim("job", new Date("2026-05-04T10:00:00Z"))).toBe(true);
    clock.advance(10_001);
    expect(await b.lease.tryAcquire()).toBe(true);
    expect(b.lease.epoch).toBe((a.lease.epoch ?? 0) + 1);
    const staleEpoch = a.lease.epoch;
    expect(await a.claims.claim("job", new Date("2026-05-04T10:00:05Z"))).toBe(false);
    expect(await a.lease.renew()).toBe(false);
    expect(a.lease.isLeader()).toBe(false);
    expect(await b.claims.claim("job", new Date("2026-05-04T10:00:00Z"))).toBe(false); // already claimed once
    expect(await b.claims.claim("job", new Date("2026-05-04T10:00:05Z"))).toBe(true);
    expect(staleEpoch).toBe(1);
  });

  it("a crashed leader's run is closed as interrupted and completed by the next leader", async (ctx) => {
    const p = await project(ctx, kind, { logs: 40, expiredEvery: 2 });
    const [la, lb] = [await open(p), await open(p)];
    const clock = new ManualClock(T0);
    let startedRun = "";
    // Set only once the claim names the run: polling on startedRun alone raced the claim update.
    let claimNamesRun = false;
    const crashing: Job = {
      name: "retention:logs",
      schedule: cronSchedule("0 * * * * *"),
      recordMissed: true,
      async run(c) {
        startedRun = await openRun(la.state, la.ledger, { kind: "retention", reason: "retention" });
        await c.onRunStarted(startedRun);
        claimNamesRun = true;
        return new Promise(() => undefined); // the process "died" here
      },
    };
    const a = scheduler(la, clock, "a", [crashing]);
    const b = scheduler(lb, clock, "b", [retentionJob(lb, "logs", "0 * * * * *")]);
    await a.tick(); // leader; registers the job at 10:00:00.5 (a job looks no further back than its first sight)
    clock.set(new Date("2026-05-04T10:01:00.200Z"));
    void a.tick();
    await until(async () => claimNamesRun, 50_000);
    await b.tick(); // a still holds the lease
    expect(ids(p.db, "logs")).toHaveLength(40);
    clock.advance(10_500); // a's lease expires without renewal
    await b.tick();
    const claims = await lb.state.db.selectFrom("schedule_claims").selectAll().execute();
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ job: "retention:logs", status: "ok", instance: "b", resumed_from: startedRun });
    expect(claims[0]?.run_id).not.toBe(startedRun);
    expect(ids(p.db, "logs")).toHaveLength(20);
    const old = await lb.state.db.selectFrom("runs").selectAll().where("id", "=", startedRun).executeTakeFirstOrThrow();
    expect(old.status).toBe("interrupted");
    const finished = (await actions(lb, "run_finished")).filter((e) => e.run_id === startedRun);
    expect(finished).toHaveLength(1);
    expect(finished[0]?.reason).toMatch(/^interrupted: instance a stopped/);
    expect((await lb.audit.verify()).ok).toBe(true);
  });

  it("misfire across a restart: within grace it fires, the rest is recorded once as run_missed", async (ctx) => {
    const p = await project(ctx, kind);
    const la = await open(p);
    const clock = new ManualClock(new Date("2026-05-04T10:00:01Z"));
    const ran: { job: string; fire: string; by: string }[] = [];
    const hourly = (by: string) => [counterJob("hourly", "0 * * * *", ran, by)];
    const first = scheduler(la, clock, "first", hourly("first"), 600);
    await first.tick(); // registers the job at 10:00:01: the 10:00 fire time is before it
    clock.set(new Date("2026-05-04T11:00:02Z"));
    await first.tick();
    expect(ran.map((r) => r.fire)).toEqual(["2026-05-04T11:00:00.000Z"]);
    await first.lease.release(); // "down" from here

    clock.set(new Date("2026-05-04T14:05:00Z"));
    const second = scheduler(la, clock, "second", hourly("second"), 600);
    await second.tick();
    expect(ran.map((r) => r.fire)).toEqual(["2026-05-04T11:00:00.000Z", "2026-05-04T14:00:00.000Z"]);
    let missed = await actions(la, "run_missed");
    expect(missed).toHaveLength(1);
    expect(JSON.parse(missed[0]?.data ?? "{}")).toMatchObject({
      job: "hourly",
      count: 2,
      first: "2026-05-04T12:00:00.000Z",
      last: "2026-05-04T13:00:00.000Z",
    });
    await second.tick(); // recorded once, not again
    expect(await actions(la, "run_missed")).toHaveLength(1);
    await second.lease.release();

    clock.set(new Date("2026-05-04T17:30:00Z")); // 17:00 is 30 min old: beyond the 10 min grace
    const third = scheduler(la, clock, "third", hourly("third"), 600);
    await third.tick();
    expect(ran).toHaveLength(2);
    missed = await actions(la, "run_missed");
    expect(missed).toHaveLength(2);
    expect(JSON.parse(missed[1]?.data ?? "{}")).toMatchObject({ count: 3, last: "2026-05-04T17:00:00.000Z" });
    expect((await la.audit.verify()).ok).toBe(true);
  });

  it("jobs run side by side: a long run of one job never costs another job a tick", async (ctx) => {
    const p = await project(ctx, kind);
    const la = await open(p);
    const clock = new ManualClock(new Date("2026-05-04T10:00:00.500Z"));
    const ran: { job: string; fire: string; by: string }[] = [];
    const { job: slow, release } = longFirstRun(ran);
    const s = scheduler(la, clock, "a", [slow, counterJob("fast", "*/5 * * * * *", ran, "a")]);
    await s.tick({ wait: false }); // registers both jobs
    for (const at of ["05", "10", "15"]) {
      clock.set(new Date(`2026-05-04T10:00:${at}.100Z`));
      expect(await s.lease.renew()).toBe(true); // the heartbeat's job (start() is not called here)
      await s.tick({ wait: false });
      const done = () => ran.some((r) => r.job === "fast" && r.fire.includes(`:${at}.`));
      await until(async () => done() && !s.runningJobs().includes("fast"), 30_000, 10);
    }
    const fast = ran.filter((r) => r.job === "fast").map((r) => r.fire.slice(17, 19));
    expect(fast).toEqual(["05", "10", "15"]); // not held up behind the slow run
    expect(s.runningJobs()).toEqual(["retention:logs"]);
    release();
    await s.settled();
    clock.set(new Date("2026-05-04T10:00:20.100Z"));
    expect(await s.lease.renew()).toBe(true);
    await s.tick();
    // The slow job's own overrun is coalesced: 10 and 15 are one run_missed entry, labelled with its dataset.
    expect(ran.filter((r) => r.job === "slow").map((r) => r.fire.slice(17, 19))).toEqual(["05", "20"]);
    const missed = await actions(la, "run_missed");
    expect(missed).toHaveLength(1);
    expect(missed[0]?.dataset).toBe("logs");
    expect(JSON.parse(missed[0]?.data ?? "{}")).toMatchObject({ job: "retention:logs", count: 2 });
    const claims = await la.state.db.selectFrom("schedule_claims").selectAll().where("job", "=", "fast").execute();
    expect(claims.map((c) => c.status)).toEqual(["ok", "ok", "ok", "ok"]);
  });

  it("a job that runs alone (the janitor) waits while another job runs, then runs", async (ctx) => {
    const p = await project(ctx, kind);
    const la = await open(p);
    const clock = new ManualClock(new Date("2026-05-04T10:00:00.500Z"));
    const ran: { job: string; fire: string; by: string }[] = [];
    const { job: slow, release } = longFirstRun(ran);
    const janitor: Job = { ...counterJob("janitor", "*/5 * * * * *", ran, "a"), runsAlone: true };
    const s = scheduler(la, clock, "a", [slow, janitor]);
    await s.tick({ wait: false });
    clock.set(new Date("2026-05-04T10:00:05.100Z"));
    await s.tick({ wait: false });
    // No timer can fire (the clock is manual): let every pending callback run, then the janitor must still wait.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(ran.map((r) => r.job)).toEqual(["slow"]); // the janitor's tick waits
    release();
    await s.settled();
    clock.set(new Date("2026-05-04T10:00:05.900Z"));
    await s.tick();
    expect(ran.map((r) => `${r.job}@${r.fire.slice(17, 19)}`)).toEqual(["slow@05", "janitor@05"]);
  });

  it("stop(): the run ends after the current batch, is recorded, the lease is released and the next leader resumes", async (ctx) => {
    const p = await project(ctx, kind, { logs: 40, expiredEvery: 2 }); // 20 expired, batchSize 7
    const [la, lb] = [await open(p), await open(p)];
    const clock = new ManualClock(new Date("2026-05-04T10:00:30Z"));
    let a: Scheduler | undefined;
    let stopping: Promise<void> | undefined;
    const job = retentionJob(la, "logs", "* * * * *");
    const stopper: Job = {
      ...job,
      run: (c) =>
        job.run({
          ...c,
          onRunStarted: async (id) => {
            await c.onRunStarted(id);
            stopping = a?.stop(); // SIGTERM arrives while the run is under way
          },
        }),
    };
    a = scheduler(la, clock, "a", [stopper]);
    await a.tick();
    clock.set(new Date("2026-05-04T10:01:00.100Z"));
    await a.tick();
    await stopping;
    expect(ids(p.db, "logs")).toHaveLength(33); // exactly one batch of 7
    const claim = await la.state.db.selectFrom("schedule_claims").selectAll().executeTakeFirstOrThrow();
    expect(claim.status).toBe("interrupted");
    const run = await la.state.db
      .selectFrom("runs")
      .selectAll()
      .where("id", "=", claim.run_id as string)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe("interrupted");
    expect((await actions(la, "run_finished")).at(-1)?.reason).toMatch(/^interrupted/);
    expect((await a.lease.read())?.expiresAt.getTime()).toBe(0);

    const b = scheduler(lb, clock, "b", [retentionJob(lb, "logs", "* * * * *")]);
    await b.tick(); // takes the released lease at once and resumes
    expect(ids(p.db, "logs")).toHaveLength(20);
    const resumed = await lb.state.db.selectFrom("schedule_claims").selectAll().executeTakeFirstOrThrow();
    expect(resumed).toMatchObject({ status: "ok", instance: "b", resumed_from: claim.run_id });
    expect((await lb.audit.verify()).ok).toBe(true);
  });
});

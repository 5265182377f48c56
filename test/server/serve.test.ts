import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { ids, makeProject } from "../helpers/project.js";
import { until } from "./helpers.js";
import { addExpiredLogs, api, createToken, type ServeProcess, startServe, stateQuery } from "./serve-process.js";

// Spawns the BUILT CLI: run `npm run build` first.
const running: ServeProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.signal("SIGKILL");
    await s.exited;
  }
});

async function serve(dir: string): Promise<ServeProcess> {
  const s = await startServe(dir);
  running.push(s);
  return s;
}

async function stop(s: ServeProcess, sig: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  s.signal(sig);
  const code = await s.exited;
  running.splice(running.indexOf(s), 1);
  return code;
}

describe("lethe serve (a real process)", () => {
  it("token create/list/revoke: shown once, stored hashed, bad scopes refused", async () => {
    const p = makeProject();
    const created = await letheIn(
      ["token", "create", "--scopes", "read,events:write", "--label", "ci", "--json"],
      p.dir,
    );
    expect(created.code).toBe(0);
    const t = created.json as { id: string; token: string; scopes: string[] };
    expect(t).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
      token: expect.stringMatching(/^lethe_/),
      scopes: ["read", "events:write"],
    });
    const list = await letheIn(["token", "list", "--json"], p.dir);
    expect(list.stdout).not.toContain(t.token);
    expect((list.json as { tokens: { id: string }[] }).tokens.map((x) => x.id)).toEqual([t.id]);
    const stored = stateQuery<{ hash: string }>(p.dir, "select hash from api_tokens");
    expect(stored[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await letheIn(["token", "create", "--scopes", "read,root", "--json"], p.dir)).code).toBe(2);
    expect((await letheIn(["token", "revoke", t.id, "--json"], p.dir)).json).toEqual({ id: t.id, revoked: true });
    expect((await letheIn(["token", "revoke", t.id, "--json"], p.dir)).code).toBe(2);
  });

  it("serves the API; accepted erasure requests and events are processed within seconds; revocation holds", async () => {
    const p = makeProject({ logs: 20, expiredEvery: 2 });
    const token = await createToken(p.dir, "admin");
    const s = await serve(p.dir);
    expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    expect((await api(s.base, "", "/v1/plan")).status).toBe(401);
    const sched = await until(async () => {
      const r = (await api(s.base, token, "/v1/schedule")).json;
      return r.leader ? r : undefined;
    }, 10_000);
    expect(sched.leader).toMatchObject({ instance: sched.instance, epoch: 1 });
    const job = (sched.jobs as { job: string; schedule: string; next: string }[]).find(
      (j) => j.job === "retention:logs",
    );
    expect(job).toMatchObject({ schedule: "0 2 * * *" });
    const ds = (await api(s.base, token, "/v1/datasets")).json.datasets as { name: string; nextRun: string }[];
    expect(ds.find((d) => d.name === "logs")?.nextRun).toBe(job?.next);
    expect(new Date(job?.next ?? 0).getUTCHours()).toBe(2);

    const t0 = Date.now();
    const created = await api(s.base, token, "/v1/erasure-requests", { method: "POST", body: { subject: "user-1" } });
    expect(created.status, JSON.stringify(created.json)).toBe(202);
    const id = created.json.id as string;
    const done = await until(async () => {
      const r = await api(s.base, token, `/v1/erasure-requests/${id}`);
      return r.json.status === "completed" && r.json;
    }, 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(done.datasets).toBeDefined();
    expect(ids(p.db, "logs").filter((x) => x % 5 === 1)).toEqual([]);

    const db = new Database(p.db);
    db.prepare("insert into logs values (5000, 'user-7', 'p', ?)").run(new Date().toISOString());
    db.close();
    const t1 = Date.now();
    const ev = await api(s.base, token, "/v1/events/inference-complete", {
      method: "POST",
      body: { requestId: "inf-42", artifacts: [{ dataset: "logs", key: 5000 }] },
    });
    expect(ev.status).toBe(202);
    await until(async () => !ids(p.db, "logs").includes(5000), 10_000, 50);
    expect(Date.now() - t1).toBeLessThan(5000);

    const tokenId = token.split("_")[1] as string;
    expect((await letheIn(["token", "revoke", tokenId], p.dir)).code).toBe(0);
    await until(async () => (await api(s.base, token, "/v1/plan")).status === 401, 5000);

    expect(await stop(s)).toBe(0);
    expect(s.lines.map((l) => l.msg)).toContain("stopped");
    expect(s.raw.join("\n")).not.toContain("user-1");
    expect(s.lines.filter((l) => l.msg === "request").every((l) => typeof l.route === "string")).toBe(true);
  });

  it("SIGTERM mid-run finishes the current batch, records it and exits 0; a restart completes the run", async () => {
    const p = makeProject({ logs: 10, expiredEvery: 2, safety: 1, extraYaml: 'schedule: "*/2 * * * * *"\n' });
    addExpiredLogs(p.db, 100_000, 2000); // ~290 batches of 7: stopped after ~15, ~270 left to resume
    const s = await serve(p.dir);
    const claim = await until(
      async () => {
        const c = stateQuery<{ run_id: string | null; status: string }>(
          p.dir,
          "select * from schedule_claims where job = 'retention:logs' and run_id is not null",
        )[0];
        if (!c?.run_id) return undefined;
        const n =
          stateQuery<{ n: number }>(
            p.dir,
            "select count(*) as n from ledger_items i join ledger l on l.seq = i.seq where l.run_id = ? and l.action = 'deleted'",
            c.run_id,
          )[0]?.n ?? 0;
        return n > 100 && c;
      },
      30_000,
      50,
    );
    expect(await stop(s)).toBe(0);

    const after = stateQuery<{ status: string; run_id: string }>(
      p.dir,
      "select * from schedule_claims where run_id = ?",
      claim.run_id,
    )[0];
    expect(after?.status).toBe("interrupted");
    const run = stateQuery<{ status: string }>(p.dir, "select status from runs where id = ?", claim.run_id)[0];
    expect(run?.status).toBe("interrupted");
    const finished = stateQuery<{ reason: string }>(
      p.dir,
      "select reason from ledger where run_id = ? and action = 'run_finished'",
      claim.run_id,
    );
    expect(finished).toHaveLength(1);
    expect(finished[0]?.reason).toMatch(/^interrupted/);
    const deleted =
      stateQuery<{ n: number }>(
        p.dir,
        "select count(*) as n from ledger_items i join ledger l on l.seq = i.seq where l.run_id = ? and l.action = 'deleted'",
        claim.run_id,
      )[0]?.n ?? 0;
    // Whole batches only (batchSize 7), each on the ledger: rows gone == items recorded (ledger v2: the
    // items of `deleted` batch entries).
    expect(deleted % 7).toBe(0);
    expect(ids(p.db, "logs")).toHaveLength(2010 - deleted);
    expect(stateQuery(p.dir, "select * from intents")).toEqual([]);
    const verify = await letheIn(["audit", "verify", "--json"], p.dir);
    expect(verify.code).toBe(0);
    expect((verify.json as { ok: boolean }).ok).toBe(true);

    const again = await serve(p.dir);
    await until(async () => {
      const c = stateQuery<{ status: string }>(
        p.dir,
        "select status from schedule_claims where resumed_from = ?",
        claim.run_id,
      )[0];
      return c?.status === "ok";
    }, 60_000);
    expect(ids(p.db, "logs")).toHaveLength(5);
    expect(await stop(again)).toBe(0);
    expect((await letheIn(["audit", "verify", "--json"], p.dir)).code).toBe(0);
  }, 180_000);
});

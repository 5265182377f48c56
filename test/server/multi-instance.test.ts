import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { statePoolConfig } from "../../src/state/pg-state-schema.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { createLogsTable } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { until } from "./helpers.js";
import { addExpiredLogs, type ServeProcess, startServe } from "./serve-process.js";

// Two real `lethe serve` processes (the BUILT CLI: run `npm run build` first) on one PostgreSQL state.
const running = new Set<ServeProcess>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of running) s.signal("SIGKILL");
  await Promise.all([...running].map((s) => s.exited));
  running.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface ClaimRow {
  job: string;
  fire_time: string;
  status: string;
  instance: string;
  run_id: string | null;
  resumed_from: string | null;
}

describe("two lethe serve processes on one PostgreSQL state", () => {
  it("every tick runs exactly once across a handover; kill -9 of the leader mid-run: the other completes it", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    const dir = tempDir();
    createLogsTable(join(dir, "app.db"));
    addExpiredLogs(join(dir, "app.db"), 1, 20); // something to delete on the first tick
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1
state: "${db.url}"
schedule: "*/2 * * * * *"
safety: { maxFraction: 1 }
secrets: { masterKey: env:LETHE_MASTER_KEY }
server: { leaseTtl: 3s }
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d, batchSize: 25 }
`,
    );
    const env = { LETHE_MASTER_KEY: randomBytes(32).toString("hex"), LETHE_ACCESS_LOG: "off" };
    // lethe's tables, reached as lethe reaches them (search_path = its schema).
    const pool = new pg.Pool(statePoolConfig(db.url, { max: 2 }));
    cleanups.push(() => pool.end());
    const q = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];
    const start = async () => {
      const s = await startServe(dir, env);
      running.add(s);
      return s;
    };
    const pidOf = (instance: string) => Number(instance.split(":")[1]);
    const byPid = (pid: number) => [...running].find((s) => s.proc.pid === pid);

    // Phase 1: two instances; halfway, the leader is stopped with SIGTERM and a third one joins.
    const ticks = async () =>
      q<ClaimRow>("select * from schedule_claims where job = 'retention:logs' and status = 'ok' order by fire_time");
    // Started side by side: each start-up is ~2 s of the built CLI loading.
    await Promise.all([start(), start()]);
    await until(async () => (await ticks()).length >= 2, 60_000);
    const leader = (await q<{ holder: string }>("select holder from leader_lease"))[0]?.holder as string;
    const first = byPid(pidOf(leader));
    expect(first).toBeDefined();
    first?.signal("SIGTERM");
    // The third instance starts while the leader stops: its start-up overlaps the handover instead of following it.
    const joining = start();
    expect(await first?.exited).toBe(0);
    running.delete(first as ServeProcess);
    const beforeHandover = (await ticks()).length;
    await joining;
    // Polls for the condition instead of sleeping: ticks after the handover, run by another instance.
    await until(async () => {
      const t = await ticks();
      return t.length >= beforeHandover + 3 && new Set(t.map((c) => c.instance)).size >= 2;
    }, 60_000);

    // Ticks keep firing while we look: judge every claim up to the last finished one, read before the ledger.
    const ok = await ticks();
    const cutoff = ok.at(-1)?.fire_time as string;
    const all = await q<ClaimRow>("select * from schedule_claims where job = 'retention:logs' order by fire_time");
    const claims = all.filter((c) => Date.parse(c.fire_time) <= Date.parse(cutoff));
    expect(claims.length).toBeGreaterThanOrEqual(5);
    // Consecutive fire times 2 s apart from the first to the last: none skipped, none twice (the key), all ran.
    for (let i = 1; i < claims.length; i++)
      expect(Date.parse(claims[i]!.fire_time) - Date.parse(claims[i - 1]!.fire_time), claims[i]!.fire_time).toBe(2000);
    expect(claims.map((c) => c.status)).toEqual(claims.map(() => "ok"));
    expect(new Set(claims.map((c) => c.instance)).size).toBeGreaterThanOrEqual(2); // the handover happened
    const started = (await q<{ run_id: string }>("select run_id from ledger where action = 'run_started'")).map(
      (r) => r.run_id,
    );
    const later = await q<ClaimRow>("select * from schedule_claims where job = 'retention:logs'");
    // Every claimed run started on the ledger, and every started run belongs to a claim (none without one).
    expect(started).toEqual(expect.arrayContaining(claims.map((c) => c.run_id as string)));
    expect(later.map((c) => c.run_id)).toEqual(expect.arrayContaining(started));

    // Phase 2: a long run; kill -9 its instance mid-run.
    // 4,000 rows: ~12 batches in when it is killed, well over a hundred batches to go.
    addExpiredLogs(join(dir, "app.db"), 100_000, 4000);
    const victim = await until(
      async () => {
        const c = (
          await q<ClaimRow>("select * from schedule_claims where status = 'running' and run_id is not null")
        )[0];
        if (!c) return undefined;
        const n = (
          await q<{ n: string }>(
            "select count(*) as n from ledger_items i join ledger l on l.seq = i.seq where l.run_id = $1 and l.action = 'deleted'",
            [c.run_id],
          )
        )[0];
        return Number(n?.n) >= 300 && c;
      },
      60_000,
      50,
    );
    const proc = byPid(pidOf(victim.instance));
    expect(proc).toBeDefined();
    proc?.signal("SIGKILL");
    await proc?.exited;
    running.delete(proc as ServeProcess);

    const resumed = await until(async () => {
      const c = (await q<ClaimRow>("select * from schedule_claims where resumed_from = $1", [victim.run_id]))[0];
      return c?.status === "ok" && c;
    }, 60_000);
    expect(resumed).toMatchObject({ job: victim.job, fire_time: victim.fire_time });
    expect(pidOf(resumed.instance)).not.toBe(pidOf(victim.instance));
    const left = new Database(join(dir, "app.db"), { readonly: true });
    expect((left.prepare("select count(*) as n from logs").get() as { n: number }).n).toBe(0);
    left.close();
    // Never a deletion without a record: one `deleted` item (of a ledger v2 batch entry) per row ever removed,
    // across the kill.
    const deleted = await q<{ n: string }>(
      "select count(*) as n from ledger_items i join ledger l on l.seq = i.seq where l.action = 'deleted' and l.dataset = 'logs'",
    );
    expect(Number(deleted[0]?.n)).toBe(4020);
    const closed = await q<{ reason: string }>(
      "select reason from ledger where action = 'run_finished' and run_id = $1",
      [victim.run_id],
    );
    expect(closed).toHaveLength(1);
    expect(closed[0]?.reason).toMatch(/^interrupted/);
    const verify = await letheIn(["audit", "verify", "--json"], dir, env);
    expect(verify.json, verify.stdout).toMatchObject({ ok: true });
    expect(verify.code).toBe(0);
  }, 180_000);
});

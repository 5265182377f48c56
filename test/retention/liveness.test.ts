import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { rawSqlite } from "../conformance/sql-fixture.js";
import { letheAsync, tempDir, writeConfig } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { until } from "../helpers/wait.js";
import { makeTransientProject } from "../transient/helpers.js";
import { child, DIST } from "../transient/process.js";

// Claims and runs carry their owner's liveness (issue 10 item 13): a process killed with kill -9 leaves work
// that the next process on the host takes over at once, instead of waiting out a lock or staying "running".

const CLAIMER = `
import { openLethe } from ${JSON.stringify(DIST)};
const [config, key] = process.argv.slice(1);
const lethe = await openLethe(config, { logger: { warn() {}, info() {} }, events: { autoRetry: false } });
const r = await lethe.events.enqueue({ requestId: "req-claimed", artifacts: [{ dataset: "uploads", key }] });
const claimed = await lethe.events.queue.claim(r.id);
process.stdout.write("CLAIMED " + claimed.id + "\\n");
await new Promise(() => {});
`;

describe("a dead owner's work is taken over at once", () => {
  const open: Lethe[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
  });

  it("an event claimed by a process killed with kill -9 is processed by the next poll, not after its lock", async () => {
    const p = makeTransientProject();
    const key = "uploads/claimed.bin";
    writeFileSync(join(p.data, key), "scan bytes");
    const { proc, line, exited } = await child(CLAIMER, [p.configPath, key], "CLAIMED ");
    proc.kill("SIGKILL");
    await exited;
    const id = line.slice("CLAIMED ".length).trim();
    const lethe = await p.open({ events: { autoRetry: false } });
    open.push(lethe);
    expect(await lethe.events.get(id)).toMatchObject({ status: "processing" });
    // The dead claim's lock still has ~30 s to run: only its owner's liveness makes it due now.
    const done = await until(async () => {
      await lethe.events.process();
      const e = await lethe.events.get(id);
      return e?.status === "done" && e;
    }, 10_000);
    expect(done).toMatchObject({ status: "done", attempts: 2 });
    expect(existsSync(join(p.data, key))).toBe(false);
  });

  it("a CLI run killed with kill -9 is closed on the ledger as crashed at the next start", async () => {
    const dir = tempDir();
    const raw = rawSqlite(join(dir, "t.db"));
    await seedLogs(raw, "sqlite", 200_000);
    await raw.close();
    writeConfig(
      dir,
      `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  db: { kind: sql, url: "sqlite:./t.db" }
datasets:
  logs: { store: db, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d, batchSize: 100 }
`,
    );
    const proc = letheAsync(["apply"], dir);
    const exited = new Promise((r) => proc.on("exit", r));
    const stateDb = join(dir, ".lethe", "state.db");
    const target = new Database(join(dir, "t.db"), { readonly: true });
    // Killed mid-deletion: the run exists and rows are disappearing.
    const runningRun = async () => {
      const left = target.prepare("select count(*) as n from logs").get() as { n: number };
      if (left.n === 200_000 || !existsSync(stateDb)) return undefined;
      const s = new Database(stateDb, { readonly: true, fileMustExist: true });
      try {
        return (s.prepare("select id from runs where status = 'running'").get() as { id: string } | undefined)?.id;
      } finally {
        s.close();
      }
    };
    const runId = await until(runningRun, 60_000);
    proc.kill("SIGKILL");
    await exited;
    target.close();

    const { openLethe } = await import("../../src/lethe.js");
    const lethe = await openLethe(join(dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    open.push(lethe);
    const run = await lethe.state.db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    expect(run.status).toBe("crashed");
    const entries = await lethe.audit.log({ runId });
    expect(entries[0]?.action).toBe("run_started");
    expect(entries.at(-1)).toMatchObject({ action: "run_finished", data: { status: "crashed" } });
    expect(entries.at(-1)?.reason).toMatch(/^crashed: /);
    // Closed once: opening again changes nothing.
    const size = await lethe.ledger.size();
    await lethe.executor.reconcile();
    expect(await lethe.ledger.size()).toBe(size);
  }, 120_000);
});

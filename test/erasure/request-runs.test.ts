import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { STATE_SCHEMA } from "../../src/state/state-schema-name.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { closedPort } from "../helpers/closed-port.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { ledgerProject } from "../ledger/helpers.js";

interface Entry {
  action: string;
  runId?: string;
  reason?: string;
}

async function ledger(dir: string): Promise<Entry[]> {
  const ex = await letheIn(["audit", "export", "--format", "jsonl"], dir);
  expect(ex.code, ex.stderr).toBe(0);
  return ex.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

type Runs = { id: string; status: string }[];

/** Every run on the ledger started once and finished once; every run row has its run_started. */
function expectRunsWhole(entries: Entry[], rows: Runs): void {
  const started = entries.filter((e) => e.action === "run_started").map((e) => e.runId);
  const finished = entries.filter((e) => e.action === "run_finished").map((e) => e.runId);
  expect(new Set(started).size).toBe(started.length);
  expect([...finished].sort()).toEqual([...started].sort());
  expect(rows.map((r) => r.id).sort()).toEqual([...started].sort());
  expect(rows.filter((r) => r.status === "running")).toEqual([]);
}

function sqliteRuns(statePath: string): Runs {
  const db = new Database(statePath, { readonly: true });
  try {
    return db.prepare("select id, status from runs").all() as Runs;
  } finally {
    db.close();
  }
}

async function pgRuns(url: string): Promise<Runs> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ id: string; status: string }>(`select id, status from ${STATE_SCHEMA}.runs`)).rows;
  } finally {
    await c.end();
  }
}

/** Processes request `id` (created for `user-1` when not given) once; returns its status. */
async function requestProcessed(dir: string, id?: string): Promise<string | undefined> {
  if (!id) {
    const created = await letheIn(["requests", "create", "user-1", "--json"], dir);
    expect(created.code, created.stderr).toBe(0);
    return requestProcessed(dir, (created.json as { id: string }).id);
  }
  const processed = await letheIn(["requests", "process", id, "--json"], dir);
  return (processed.json as { processed: { status: string }[] }).processed[0]?.status;
}

/** A request whose every subject dataset is on a PostgreSQL store that is down, processed once. */
async function processAllDown(state: string): Promise<{ dir: string; entries: Entry[] }> {
  const dir = tempDir();
  const port = await closedPort();
  writeConfig(
    dir,
    `version: 1
state: "${state}"
stores:
  warehouse: { kind: sql, url: "postgres://lethe@127.0.0.1:${port}/app" }
datasets:
  logs: { store: warehouse, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
  );
  expect(await requestProcessed(dir)).toBe("partial");

  const entries = await ledger(dir);
  const partial = entries.find((e) => e.action === "erasure_partial");
  expect(partial?.runId).toBeDefined();
  expect(entries.filter((e) => e.action === "run_started" && e.runId === partial?.runId)).toHaveLength(1);
  expect(entries.filter((e) => e.action === "run_finished" && e.runId === partial?.runId)).toHaveLength(1);
  return { dir, entries };
}

// Found by QA: an erasure request inserted its run row itself, outside the one run lifecycle. With every subject
// dataset's store down, the run row went `partial` with no run_started and no run_finished at all; and a process
// killed between the row and its run_started left a row the reaper closed with a run_finished that had no start.
describe("an erasure request's runs go through the one run lifecycle", () => {
  it("every subject dataset's store down: the request's run has one run_started and one run_finished", async () => {
    const { dir, entries } = await processAllDown("./.lethe");
    expectRunsWhole(entries, sqliteRuns(join(dir, ".lethe", "state.db")));
  }, 60_000);

  it("the same on PostgreSQL state", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    try {
      const { entries } = await processAllDown(db.url);
      expectRunsWhole(entries, await pgRuns(db.url));
    } finally {
      await db.drop();
    }
  }, 60_000);

  // The kill window between the run row and its run_started, made deterministic: run_started is refused.
  it("a run row without its run_started cannot exist: a refused run_started leaves no row and no run_finished", async () => {
    const { dir } = ledgerProject("./.lethe", () => undefined);
    const app = new Database(join(dir, "app.db"));
    app.prepare("insert into logs values (1, 'user-1', 'p', '2020-01-01 00:00:00.000000')").run();
    app.close();
    const created = await letheIn(["requests", "create", "user-1", "--json"], dir);
    expect(created.code, created.stderr).toBe(0);
    const id = (created.json as { id: string }).id;
    const statePath = join(dir, ".lethe", "state.db");
    const st = new Database(statePath);
    st.exec(`create trigger qa_cut before insert on ledger when new.action = 'run_started'
      begin select raise(abort, 'cut before run_started'); end`);
    st.close();
    expect(await requestProcessed(dir, id)).toBe("failed");
    const st2 = new Database(statePath);
    st2.exec("drop trigger qa_cut");
    const rows = st2.prepare("select count(*) as n from runs").get() as { n: number };
    st2.close();
    expect(rows.n).toBe(0);

    // The next process (and its crashed-run reaper) finishes the request; still no run without its start.
    expect(await requestProcessed(dir, id)).toBe("completed");
    expectRunsWhole(await ledger(dir), sqliteRuns(statePath));
    const verified = await letheIn(["audit", "verify", "--full"], dir);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 60_000);
});

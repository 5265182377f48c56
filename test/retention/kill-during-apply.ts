/**
 * The kill -9 loop of `lethe apply` shared by kill-during-apply-{sqlite,postgres,mariadb}.test.ts (one file per
 * engine, so the three long loops run in parallel instead of one after another in a single file).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { RawSql } from "../conformance/sql-fixture.js";
import { auditExport, letheAsync, letheIn, tempDir } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { until } from "../helpers/wait.js";

/**
 * 48 batches of 250: enough that every kill below lands inside the deletion loop (after this round's share of
 * rows is gone, before the last batch), whatever the machine's speed. Where in a batch it lands is not chosen:
 * SIGKILL can hit mid-batch (between a delete and its ledger entry), which is the case the checks are for.
 */
const ROWS = 12_000;

interface Entry {
  action: string;
  dataset?: string;
  key?: number;
  /** Set on an export line for one item of a batch entry (ledger v2); the batch entry's own line has none. */
  item?: number;
}

/** The crash tests' table: ROWS expired rows with an index on the creation column. */
export const seed = (raw: RawSql, engine: "sqlite" | "pg" | "mysql") => seedLogs(raw, engine, ROWS, { index: true });

/** Cheap enough to poll every 20 ms without slowing the child down. */
async function remainingCount(raw: RawSql): Promise<number> {
  return Number((await raw.exec("select count(*) as n from logs"))[0]?.n);
}

async function remaining(raw: RawSql): Promise<Set<number>> {
  return new Set((await raw.exec("select id from logs")).map((r) => Number(r.id)));
}

/** The keys of every deleted item in `audit export`: the item lines that follow each `deleted` batch entry. */
async function deletedKeys(dir: string): Promise<number[]> {
  return (await auditExport<Entry>(dir))
    .filter((e) => e.action === "deleted" && e.dataset === "logs" && e.item !== undefined)
    .map((e) => e.key as number);
}

/**
 * A project directory whose `logs` table (store `db` at `url`) has 30-day retention in batches of 250.
 * @example const dir = logsProject(`sqlite:${path}`, join(dir, ".lethe"));
 */
export function logsProject(url: string, state: string): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ${JSON.stringify(state)}
stores:
  db: { kind: sql, url: ${JSON.stringify(url)} }
datasets:
  logs: { store: db, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d, batchSize: 250 }
`,
  );
  return dir;
}

/**
 * Four `apply` processes killed with SIGKILL at a random moment of their deletion loop, then one that finishes:
 * after every kill no row is recorded deleted that still exists, and at the end every row is recorded once.
 * `sameDatabase` (lethe's state in the target database): after every kill the gone rows are exactly the recorded
 * ones and no intent exists (`raw` must reach the state's tables, in `stateSchema` on PostgreSQL).
 * @example await crashLoop(`sqlite:${path}`, join(dir, ".lethe"), rawSqlite(path));
 */
export async function crashLoop(
  url: string,
  state: string,
  raw: RawSql,
  opts: { sameDatabase?: boolean; stateSchema?: string } = {},
) {
  const dir = logsProject(url, state);
  // Opening once creates the state, so kill times below land in the deletion loop.
  expect((await letheIn(["plan"], dir)).code).toBe(0);
  let interrupted = 0;
  for (let round = 0; round < 4; round++) {
    const child = letheAsync(["apply", "--force"], dir);
    let done = false;
    const exited = new Promise((r) =>
      child.on("exit", () => {
        done = true;
        r(undefined);
      }),
    );
    // Kill once this round's share of rows is gone (a condition, not a timer): each round lands at a
    // different point of the deletion loop, however fast or slow the machine is.
    const before = await remainingCount(raw);
    const share = Math.max(1, Math.floor(before * (0.05 + 0.1 * (round % 3))));
    await until(async () => done || (await remainingCount(raw)) <= before - share, 60_000, 20);
    child.kill("SIGKILL");
    await exited;
    // At every moment: no "deleted" item recorded for a row that still exists.
    const left = await remaining(raw);
    if (left.size > 0 && left.size < ROWS) interrupted++;
    const recorded = await deletedKeys(dir);
    for (const k of recorded) expect(left.has(k), `row ${k} is recorded deleted but exists`).toBe(false);
    if (opts.sameDatabase) {
      // Same-database mode: delete and entries commit together, so before any reconcile every gone row is
      // recorded (both or neither), and there is no intent left to settle.
      expect(new Set(recorded).size + left.size, "a deleted row has no committed ledger item").toBe(ROWS);
      const intents = opts.stateSchema ? `${opts.stateSchema}.intents` : "intents";
      expect(Number((await raw.exec(`select count(*) as n from ${intents}`))[0]?.n)).toBe(0);
    }
  }
  // The kills must really have landed mid-deletion, or this test proves nothing.
  expect(interrupted).toBeGreaterThan(0);
  const last = await letheIn(["apply", "--force", "--json"], dir);
  expect(last.code).toBe(0);
  const left = await remaining(raw);
  expect(left.size).toBe(0);
  // Every deleted row has exactly one "deleted" item: none missing, none twice.
  const keys = await deletedKeys(dir);
  expect(keys.length).toBe(ROWS);
  expect(new Set(keys).size).toBe(ROWS);
  const v = await letheIn(["audit", "verify", "--json"], dir);
  expect(v.json).toMatchObject({ ok: true });
  return dir;
}

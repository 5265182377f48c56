import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { type RawSql, rawPg } from "../conformance/sql-fixture.js";
import { letheSpawn, tempDir, writeConfig } from "../helpers/cli.js";
import { OLD, seedLogs } from "../helpers/logs-table.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { startTcpFaultProxy, type TcpFaultProxy } from "../helpers/tcp-fault-proxy.js";
import { until } from "../helpers/wait.js";

const ROWS = 3000;

function open(url: string) {
  return openLethe({
    version: 1,
    state: url,
    safety: { maxFraction: 1 },
    stores: { db: { kind: "sql", url } },
    datasets: {
      logs: { store: "db", table: "logs", key: "id", subject: "user_id", createdAt: "created_at", retention: "30d" },
    },
    batchSize: 20,
  });
}

/**
 * Same-database mode (state and target behind one proxy URL): a reply lost after the batch's DELETE or after its
 * COMMIT leaves rows and entries agreeing (both or neither), no intent is ever written, and the next run records
 * every remaining row exactly once.
 */
describe("same-database mode: a lost reply is still 'outcome unknown', and commit-or-not covers rows and entries", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  for (const pattern of ["delete from", "commit"])
    it(`reply to "${pattern}" lost mid-run`, async (ctx) => {
      requireService(ctx, "pg");
      const db = await createTestPgDatabase();
      cleanup.push(db.drop);
      const raw = rawPg(db.url);
      cleanup.push(() => raw.close());
      await seedLogs(raw, "pg", ROWS, { users: 7 });
      const real = new URL(db.url);
      const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
      cleanup.push(() => proxy.close());
      const url = new URL(db.url);
      url.port = String(proxy.port);

      const first = await open(url.toString());
      // Every intent row ever inserted is counted (the state is in this database).
      await raw.exec("create table intent_writes (n integer)");
      await raw.exec(`create function count_intent() returns trigger language plpgsql as
        $$ begin insert into public.intent_writes values (1); return new; end $$`);
      // lethe's tables live in schema lethe; the trigger fires on its connection, whose search_path is that schema.
      await raw.exec(
        "create trigger count_intent after insert on lethe.intents for each row execute function public.count_intent()",
      );
      const left = async () => Number((await raw.exec("select count(*) as n from logs"))[0]?.n);
      const run = first.apply().catch((err: unknown) => err);
      // Armed once batches are committing, so the loss hits a batch, not the run's opening entry.
      await until(async () => (await left()) < ROWS, 30_000, 5);
      proxy.loseReplyTo(pattern);
      // Not a thrown error: the lost batch is a coded failure of its dataset and the run carries on.
      const r = await run;
      expect(r).not.toBeInstanceOf(Error);
      const failures = (r as { datasets: { failures: { code?: string }[] }[] }).datasets[0]?.failures ?? [];
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((f) => f.code === "OUTCOME_UNKNOWN")).toBe(true);
      expect(proxy.lost).toBe(1);
      await first.close().catch(() => undefined);

      const again = await open(db.url);
      cleanup.push(() => again.close());
      const recorded = async () =>
        (await again.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted").map((e) => e.key);
      // Right after the loss, before any further run: the gone rows are exactly the recorded ones.
      const before = await recorded();
      expect(new Set(before).size).toBe(before.length);
      expect(before.length + (await left())).toBe(ROWS);
      await again.apply();
      expect(await left()).toBe(0);
      const after = await recorded();
      expect(after).toHaveLength(ROWS);
      expect(new Set(after).size).toBe(ROWS);
      expect(Number((await raw.exec("select count(*) as n from intent_writes"))[0]?.n)).toBe(0);
    }, 120_000);
});

interface ApplyJson {
  datasets: {
    name: string;
    deleted: number;
    failed: number;
    failures: { key: number; reason: string; code?: string }[];
  }[];
}

/**
 * The same losses through the real CLI, with a second dataset in the same database after the one that loses its
 * reply: the lost batch is a per-dataset failure coded OUTCOME_UNKNOWN (exit 1, the run closed, no INTERNAL, no
 * stack), the other dataset is done in the same run, and the next run leaves table and ledger agreeing.
 */
describe("same-database mode, CLI: a lost reply fails the batch with OUTCOME_UNKNOWN and the run goes on", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const LOGS = 200;
  const CLICKS = 60;
  /** Each deleted `logs` key with how many `deleted` items the ledger holds for it. */
  const ledgerItems = async (raw: RawSql) =>
    (
      await raw.exec(`select i.item_key as k, count(*) as n from lethe.ledger_items i join lethe.ledger l on l.seq = i.seq
        where l.dataset = 'logs' and l.action = 'deleted' group by i.item_key`)
    ).map((r) => ({ k: Number(r.k), n: Number(r.n) }));
  const remaining = async (raw: RawSql, table: string) =>
    (await raw.exec(`select id from ${table}`)).map((r) => Number(r.id));

  /** `logs` then `clicks` in one PostgreSQL database that is also the state, both reached through a fault proxy. */
  async function cliProject(): Promise<{ raw: RawSql; proxy: TcpFaultProxy; dir: string }> {
    const db = await createTestPgDatabase();
    cleanup.push(db.drop);
    const raw = rawPg(db.url);
    cleanup.push(() => raw.close());
    await seedLogs(raw, "pg", LOGS, { users: 7 });
    await raw.exec("create table clicks (id bigint primary key, user_id text, created_at text not null)");
    await raw.exec(`insert into clicks select g, 'user-' || g, '${OLD}' from generate_series(1, ${CLICKS}) g`);
    const real = new URL(db.url);
    const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
    cleanup.push(() => proxy.close());
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const dir = tempDir();
    const dataset = (table: string) =>
      `{ store: db, table: ${table}, key: id, subject: user_id, createdAt: created_at, retention: 30d }`;
    writeConfig(
      dir,
      `version: 1\nstate: "${url}"\nbatchSize: 20\nsafety: { maxFraction: 1 }\nstores:\n  db: { kind: sql, url: "${url}" }\n` +
        `datasets:\n  logs: ${dataset("logs")}\n  clicks: ${dataset("clicks")}\n`,
    );
    return { raw, proxy, dir };
  }

  /** The second run deletes what is left; every deleted row then has exactly one ledger item, and the ledger verifies. */
  async function secondRunMakesItWhole(raw: RawSql, dir: string): Promise<void> {
    const second = await letheSpawn(["apply", "--json"], dir);
    expect(second.code).toBe(0);
    expect(await remaining(raw, "logs")).toEqual([]);
    expect(await remaining(raw, "clicks")).toEqual([]);
    const all = await ledgerItems(raw);
    expect(all).toHaveLength(LOGS);
    expect(all.every((x) => x.n === 1)).toBe(true);
    const verify = await letheSpawn(["audit", "verify", "--full", "--json"], dir);
    expect(verify.code).toBe(0);
    expect(verify.json).toMatchObject({ ok: true });
  }

  for (const lost of ["delete", "commit"] as const)
    it(`reply to the batch's ${lost.toUpperCase()} lost: exit 1, coded, and a second run makes it whole`, async (ctx) => {
      requireService(ctx, "pg");
      const { raw, proxy, dir } = await cliProject();
      // The first batch of logs: its DELETE, or the COMMIT of the transaction that ran it (and its entries).
      if (lost === "delete") proxy.loseReplyTo('delete from "public"."logs"');
      else proxy.loseReplyTo("commit", false, 'delete from "public"."logs"');

      const first = await letheSpawn(["apply", "--json"], dir);
      expect(proxy.lost).toBe(1);
      expect(first.stderr).not.toMatch(/INTERNAL|\n\s+at /);
      expect(first.code).toBe(1);
      const r = first.json as ApplyJson;
      const logs = r.datasets.find((d) => d.name === "logs");
      expect(logs?.failed).toBe(20);
      expect(logs?.deleted).toBe(LOGS - 20);
      expect(logs?.failures.every((f) => f.code === "OUTCOME_UNKNOWN" && /^outcome unknown/.test(f.reason))).toBe(true);
      expect(r.datasets.find((d) => d.name === "clicks")).toMatchObject({ deleted: CLICKS, failed: 0 });
      expect(await remaining(raw, "clicks")).toEqual([]);
      // Committed or not, rows and entries agree: the rows gone are exactly the recorded ones, each once.
      const left = await remaining(raw, "logs");
      expect(left).toHaveLength(lost === "delete" ? 20 : 0);
      const recorded = await ledgerItems(raw);
      expect(recorded.every((x) => x.n === 1)).toBe(true);
      expect(recorded.length + left.length).toBe(LOGS);
      expect(recorded.some((x) => left.includes(x.k))).toBe(false);
      // The run is closed (partial), not left running.
      const runs = await raw.exec("select status from lethe.runs");
      expect(runs.map((x) => x.status)).toEqual(["partial"]);

      await secondRunMakesItWhole(raw, dir);
    }, 120_000);

  it("reply to the DELETE lost and PostgreSQL down after it: STORE_ERROR (exit 1, no stack), the next run makes it whole", async (ctx) => {
    requireService(ctx, "pg");
    const { raw, proxy, dir } = await cliProject();
    proxy.loseReplyTo('delete from "public"."logs"', true);
    const first = await letheSpawn(["apply", "--json"], dir);
    expect(proxy.lost).toBe(1);
    expect(first.stderr).not.toMatch(/INTERNAL|\n\s+at /);
    expect(first.code).toBe(1);
    const e = (first.json as { error: { code: string; message: string } }).error;
    expect(e.code).toBe("STORE_ERROR");
    // Which of the client's failures it names depends on where the next statement met the dead server.
    expect(e.message).toMatch(
      /a database connection was lost \((connection terminated|connection error|connection lost|socket closed|E[A-Z_]+)\)/,
    );
    // The lost batch rolled back with its entries: nothing gone, nothing recorded.
    expect(await remaining(raw, "logs")).toHaveLength(LOGS);
    expect(await ledgerItems(raw)).toEqual([]);
    proxy.down = false;
    await secondRunMakesItWhole(raw, dir);
  }, 120_000);
});

import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { rawPg } from "../conformance/sql-fixture.js";
import { seedLogs } from "../helpers/logs-table.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { startTcpFaultProxy } from "../helpers/tcp-fault-proxy.js";
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
        $$ begin insert into intent_writes values (1); return new; end $$`);
      await raw.exec(
        "create trigger count_intent after insert on intents for each row execute function count_intent()",
      );
      const left = async () => Number((await raw.exec("select count(*) as n from logs"))[0]?.n);
      const run = first.apply().catch((err: unknown) => err);
      // Armed once batches are committing, so the loss hits a batch, not the run's opening entry.
      await until(async () => (await left()) < ROWS, 30_000, 5);
      proxy.loseReplyTo(pattern);
      await run;
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

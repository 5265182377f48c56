import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { type RawSql, rawMysql, rawPg } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { createTestMysqlDatabase, createTestPgDatabase, requireService } from "../helpers/services.js";
import { startTcpFaultProxy, type TcpFaultProxy } from "../helpers/tcp-fault-proxy.js";

const ROWS = 50;

function open(url: string, state: string) {
  return openLethe({
    version: 1,
    state,
    safety: { maxFraction: 1 },
    stores: { db: { kind: "sql", url } },
    datasets: {
      logs: { store: "db", table: "logs", key: "id", subject: "user_id", createdAt: "created_at", retention: "30d" },
    },
    batchSize: 20,
  });
}

interface Engine {
  name: string;
  service: "pg" | "mysql";
  create(): Promise<{ url: string; drop(): Promise<void> }>;
  raw(url: string): RawSql;
  /** Creates and fills `logs` with ROWS expired rows. */
  seed(raw: RawSql): Promise<void>;
  /** What the client says when the server looks down. */
  downError: RegExp;
}

const ENGINES: Engine[] = [
  {
    name: "PostgreSQL",
    service: "pg",
    create: createTestPgDatabase,
    raw: rawPg,
    seed: (raw) => seedLogs(raw, "pg", ROWS, { users: 7 }),
    downError: /Connection terminated/,
  },
  {
    name: "MariaDB",
    service: "mysql",
    create: createTestMysqlDatabase,
    raw: rawMysql,
    seed: (raw) => seedLogs(raw, "mysql", ROWS, { users: 7 }),
    downError: /ECONNRESET|closed the connection|Connection lost/,
  },
];

for (const engine of ENGINES) {
  describe(`a batch DELETE that commits while its reply is lost (${engine.name})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c();
    });

    async function setup(): Promise<{ url: string; proxy: TcpFaultProxy; raw: RawSql }> {
      const db = await engine.create();
      cleanup.push(db.drop);
      const raw = engine.raw(db.url);
      cleanup.push(() => raw.close());
      await engine.seed(raw);
      const real = new URL(db.url);
      const proxy = await startTcpFaultProxy(Number(real.port), real.hostname);
      cleanup.push(() => proxy.close());
      const url = new URL(db.url);
      url.port = String(proxy.port);
      return { url: url.toString(), proxy, raw };
    }

    it("is reconciled: every row the statement removed gets its deleted entry, none is assumed untouched", async (ctx) => {
      requireService(ctx, engine.service);
      const { url, proxy, raw } = await setup();
      const lethe = await open(url, join(tempDir(), "state"));
      cleanup.push(() => lethe.close());

      proxy.loseReplyTo("delete from");
      const r = await lethe.apply();
      expect(proxy.lost).toBe(1);

      expect(await raw.exec("select id from logs")).toEqual([]);
      const deleted = (await lethe.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted");
      expect(new Set(deleted.map((e) => e.key)).size).toBe(ROWS);
      expect(deleted).toHaveLength(ROWS);
      expect(r.datasets[0]).toMatchObject({ deleted: ROWS, failed: 0 });
      expect(await lethe.state.db.selectFrom("intents").selectAll().execute()).toEqual([]);
    });

    it("when the store cannot even say which keys remain, the intent stays open and the next run settles it", async (ctx) => {
      requireService(ctx, engine.service);
      const { url, proxy, raw } = await setup();
      const state = join(tempDir(), "state");
      const first = await open(url, state);
      proxy.loseReplyTo("delete from", true);
      // The store is down from then on, so the run fails (closed on the ledger as such) at its next read.
      // A coded STORE_ERROR naming a lost connection (no server text), not the client's raw error.
      const err = await first.apply().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE_ERROR", message: expect.stringMatching(/connection was lost/) });
      expect(String((err as Error).cause)).toMatch(engine.downError);
      expect(proxy.lost).toBe(1);
      // The first batch is gone from the table, but nothing could confirm it: no entry yet, and no false "failed" either.
      expect(Number((await raw.exec("select count(*) as n from logs"))[0]?.n)).toBe(ROWS - 20);
      expect((await first.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted")).toEqual([]);
      expect((await first.audit.log({ dataset: "logs" })).filter((e) => e.action === "failed")).toEqual([]);
      expect((await first.state.db.selectFrom("intents").selectAll().execute()).length).toBeGreaterThan(0);
      await first.close();

      proxy.down = false;
      const again = await open(url, state);
      cleanup.push(() => again.close());
      await again.apply();
      expect(await raw.exec("select id from logs")).toEqual([]);
      const deleted = (await again.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted");
      expect(deleted).toHaveLength(ROWS);
      expect(new Set(deleted.map((e) => e.key)).size).toBe(ROWS);
      expect(await again.state.db.selectFrom("intents").selectAll().execute()).toEqual([]);
    });
  });
}

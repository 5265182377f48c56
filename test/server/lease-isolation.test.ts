import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { LetheService } from "../../src/server/service.js";
import { makeProject } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { openProject, until } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe("scheduler lease on PostgreSQL state", () => {
  it("renews on a connection of its own while long reads hold every pooled connection", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    const p = makeProject();
    const file = join(p.dir, "lethe.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("state: ./.lethe", `state: "${db.url}"`));
    const lethe = await openProject(p);
    const service = await LetheService.start(lethe, { log: silent, port: 0, host: "127.0.0.1", accessLog: false });
    cleanups.push(() => service.stop());
    await until(async () => service.scheduler.lease.isLeader());
    // Eight long reads (the pool's size) each hold a connection until released.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const held = Array.from({ length: 8 }, () =>
      lethe.state.db.transaction().execute(async (trx) => {
        await sql`select count(*) from ledger`.execute(trx);
        await gate;
      }),
    );
    cleanups.push(async () => {
      release();
      await Promise.all(held);
    });
    // The shared pool is exhausted: a query on it waits.
    let pooled = false;
    const waiting = sql`select 1`.execute(lethe.state.db).then(() => {
      pooled = true;
    });
    const renewed = await Promise.race([
      service.scheduler.lease.renew(),
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000)),
    ]);
    expect(renewed).toBe(true);
    expect(pooled).toBe(false);
    release();
    await Promise.all([...held, waiting]);
  }, 30_000);
});

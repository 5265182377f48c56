import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { filesUnder, makeTransientProject, workspaceDirs } from "./helpers.js";

/**
 * 10,000 workspaces started at once (no limit in lethe: the callers'
 * concurrency is the only bound; lease opens and closes are group-committed).
 */
describe("10,000 concurrent workspaces", () => {
  it("overlap in time, never share a directory or a key, and leave nothing behind", { timeout: 300_000 }, async () => {
    const p = makeTransientProject();
    const warnings: string[] = [];
    const lethe = await p.open({ logger: { warn: (m) => warnings.push(m), info: () => undefined } });
    const N = 10_000;
    let live = 0;
    let peak = 0;
    const seen: { dir: string; keyId: string; id: string }[] = [];
    try {
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          lethe.transient(`req-${i % 100}`, async (ws) => {
            live++;
            peak = Math.max(peak, live);
            seen.push({ dir: ws.dir, keyId: ws.keyId, id: ws.id });
            const mine = Buffer.from(`payload ${i} ${randomBytes(8).toString("hex")}`);
            await ws.write("input.bin", mine);
            // Yield so the others run while this one is open.
            await new Promise((r) => setImmediate(r));
            const back = await ws.read("input.bin");
            live--;
            return back.equals(mine);
          }),
        ),
      );
      expect(results.every(Boolean)).toBe(true);
      expect(seen).toHaveLength(N);
      expect(new Set(seen.map((s) => s.dir)).size).toBe(N);
      expect(new Set(seen.map((s) => s.keyId)).size).toBe(N);
      expect(new Set(seen.map((s) => s.id)).size).toBe(N);
      expect(peak).toBeGreaterThanOrEqual(1000);
      expect(warnings).toEqual([]);
      expect(workspaceDirs(p.root)).toEqual([]);
      expect(filesUnder(p.root)).toEqual([]);
      expect(await lethe.state.db.selectFrom("leases").selectAll().execute()).toEqual([]);
      const counts = await lethe.state.db
        .selectFrom("ledger")
        .select((eb) => ["action", eb.fn.countAll<number>().as("n")])
        .where("action", "in", ["workspace_opened", "workspace_closed"])
        .groupBy("action")
        .execute();
      expect(Object.fromEntries(counts.map((c) => [c.action, Number(c.n)]))).toEqual({
        workspace_opened: N,
        workspace_closed: N,
      });
      console.log(`10,000 workspaces: peak ${peak} open at once`);
    } finally {
      await lethe.close();
    }
  });
});

describe("workspaces with PostgreSQL state", () => {
  let pg: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    if (process.env.LETHE_TEST_PG_URL) pg = await createTestPgDatabase();
  });
  afterAll(async () => {
    await pg?.drop();
  });

  it("leases and ledger entries work the same; two instances share the state", async (ctx) => {
    requireService(ctx, "pg");
    const p = makeTransientProject({ state: pg?.url as string });
    const a = await p.open();
    const b = await p.open();
    try {
      const ids = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          (i % 2 ? a : b).transient(`pg-${i}`, async (ws) => {
            await ws.write("x", Buffer.from(String(i)));
            const leases = await a.state.db.selectFrom("leases").select("id").where("id", "=", ws.id).execute();
            expect(leases).toHaveLength(1);
            return ws.id;
          }),
        ),
      );
      expect(new Set(ids).size).toBe(300);
      expect(workspaceDirs(p.root)).toEqual([]);
      expect(await a.state.db.selectFrom("leases").selectAll().execute()).toEqual([]);
      const closed = (await a.audit.log({})).filter((e) => e.action === "workspace_closed");
      expect(closed).toHaveLength(300);
      expect((await a.audit.verify()).ok).toBe(true);
      expect((await a.janitor()).findings).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { expected, filesUnder, pgFixture, remaining } from "./fixture.js";

const SUBJECTS = Array.from({ length: 10 }, (_, i) => `pg-user-${i}`);
const quiet = { logger: { warn: () => undefined, info: () => undefined } };
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

describe("erasure on a PostgreSQL target (state in PostgreSQL too)", () => {
  it("erases every row and linked file of the subjects and nothing of anyone else", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const f = await pgFixture(db.url, SUBJECTS, 7, undefined, { state: db.url });
    const lethe = await openLethe(`${f.dir}/lethe.yaml`, quiet);
    try {
      const dry = await lethe.erase("pg-user-3");
      expect(dry.dryRun).toBe(true);
      expect(dry.datasets.find((d) => d.name === "inference_logs")).toMatchObject({ found: 7, deleted: 0 });
      expect(await remaining(f, "inference_logs")).toHaveLength(f.logs.length);

      const one = await lethe.erase("pg-user-3", { yes: true });
      expect(one.subject).toBe("pg-user-3");
      expect(one.runId).toMatch(/^run_/);
      const by = Object.fromEntries(one.datasets.map((d) => [d.name, d]));
      expect(by.inference_logs).toMatchObject({ found: 7, deleted: 7, residue: 0 });
      expect(by.training_records).toMatchObject({ found: 3, deleted: 3, filesRemoved: 3, residue: 0 });
      expect(by.uploads).toMatchObject({ found: 2, deleted: 2 });

      const many = await lethe.erase(["pg-user-5", "pg-user-8"], { yes: true, reason: "batch" });
      expect(many.subjects.map((s) => [s.subject, s.residue, s.failed])).toEqual([
        ["pg-user-5", 0, 0],
        ["pg-user-8", 0, 0],
      ]);
      // PostgreSQL has no byte-level purge: dead tuples are VACUUM's job (docs/erasure.md).
      expect(many.scrub).toEqual([]);

      const want = expected(f, new Set(["pg-user-3", "pg-user-5", "pg-user-8"]));
      expect(await remaining(f, "inference_logs")).toEqual(want.logs);
      expect(await remaining(f, "training_records")).toEqual(want.training);
      expect(filesUnder(f.models)).toEqual(want.modelFiles);
      expect(filesUnder(f.uploads)).toEqual(want.uploads);
      expect((await lethe.audit.verify()).ok).toBe(true);
      const log = await lethe.audit.log({ subject: "pg-user-5" });
      expect(log.filter((e) => e.action === "deleted" && e.reason === "erasure")).toHaveLength(7 + 3 + 2);
      expect(log.at(-1)).toMatchObject({ action: "erasure_completed", reason: "batch" });
    } finally {
      await lethe.close();
    }
    // The CLI gives the same answer against the shared PostgreSQL state.
    const again = await letheIn(["erase", "pg-user-3", "--yes", "--json"], f.dir);
    expect(again.code).toBe(0);
    expect((again.json as { datasets: { found: number }[] }).datasets.every((d) => d.found === 0)).toBe(true);
  });
});

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, it } from "vitest";
import { rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { crashLoop, seed } from "./kill-during-apply.js";

describe("kill -9 during apply, lethe's state in the target database (no intents)", () => {
  it("PostgreSQL: after every kill the gone rows are exactly the recorded ones", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const raw = rawPg(db.url);
    await seed(raw, "pg");
    // lethe's tables live in schema lethe; the app's `logs` in public.
    await crashLoop(db.url, db.url, raw, { sameDatabase: true, stateSchema: "lethe" });
    await raw.close();
    await db.drop();
  }, 300_000);

  it("SQLite: the same, with the table in the state file", async () => {
    const dir = tempDir();
    const stateDir = join(dir, ".lethe");
    mkdirSync(stateDir, { mode: 0o700 });
    const path = join(stateDir, "state.db");
    new Database(path).close();
    const raw = rawSqlite(path);
    await seed(raw, "sqlite");
    await crashLoop(`sqlite:${path}`, stateDir, raw, { sameDatabase: true });
    await raw.close();
  }, 300_000);
});

import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, it } from "vitest";
import { rawSqlite } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { crashLoop, seed } from "./kill-during-apply.js";

describe("kill -9 during apply", () => {
  it("SQLite target, SQLite state: ledger and data agree after every crash", async () => {
    const dir = tempDir();
    const path = join(dir, "t.db");
    new Database(path).close();
    const raw = rawSqlite(path);
    await seed(raw, "sqlite");
    await crashLoop(`sqlite:${path}`, join(dir, ".lethe"), raw);
    await raw.close();
  }, 300_000);
});

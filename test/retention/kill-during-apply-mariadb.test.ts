import { join } from "node:path";
import { describe, it } from "vitest";
import { rawMysql } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { createTestMysqlDatabase, requireService } from "../helpers/services.js";
import { crashLoop, seed } from "./kill-during-apply.js";

describe("kill -9 during apply", () => {
  it("MariaDB target, SQLite state: ledger and data agree after every crash", async (ctx) => {
    requireService(ctx, "mysql");
    const target = await createTestMysqlDatabase();
    const raw = rawMysql(target.url);
    await seed(raw, "mysql");
    await crashLoop(target.url, join(tempDir(), ".lethe"), raw);
    await raw.close();
    await target.drop();
  }, 300_000);
});

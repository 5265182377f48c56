import { describe, expect, it } from "vitest";
import { rawPg } from "../conformance/sql-fixture.js";
import { letheIn } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { logsProject } from "./kill-during-apply.js";

// Found by QA: every CLI command with a PostgreSQL target printed the pg client's
// "DeprecationWarning: Calling client.query() when the client is already executing a query" on stderr, because
// each new target connection queued two session settings at once. lethe's stderr carries only its own messages.
describe("a PostgreSQL target", () => {
  it("leaves stderr to lethe's own messages", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const raw = rawPg(db.url);
    try {
      await seedLogs(raw, "pg", 50, { index: true });
      const dir = logsProject(db.url, "./.lethe");
      const r = await letheIn(["apply", "--force", "--json"], dir);
      expect(r.stdout, r.stderr).toContain('"datasets"');
      expect(r.stderr).not.toMatch(/DeprecationWarning|\(node:\d+\)/);
      expect(Number((await raw.exec("select count(*) as n from logs"))[0]?.n)).toBe(0);
    } finally {
      await raw.close();
      await db.drop();
    }
  }, 120_000);
});

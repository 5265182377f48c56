import { afterAll } from "vitest";
import { createTestPgDatabase } from "../helpers/services.js";
import { rawPg, sqlFixture } from "./sql-fixture.js";
import { runStoreConformance } from "./store-conformance.js";

// One database for the file: each test starts by dropping the table the previous one left (its store and
// connections are closed by then). Creating and force-dropping a database per test was most of the time.
let db: ReturnType<typeof createTestPgDatabase> | undefined;
afterAll(async () => {
  await (await db?.catch(() => undefined))?.drop();
});

// createTestPgDatabase throws when LETHE_TEST_PG_URL is unset: a missing server fails, never skips.
runStoreConformance(
  "sql (PostgreSQL)",
  async () => {
    db ??= createTestPgDatabase();
    const { url } = await db;
    const raw = rawPg(url);
    await raw.exec("drop table if exists items");
    return sqlFixture(url, raw, async () => undefined);
  },
  { capabilities: ["findItems", "list", "contents", "filesInUse", "expiryHistogram", "scrub", "discover"] },
);

import { createTestPgDatabase } from "../helpers/services.js";
import { rawPg, sqlFixture } from "./sql-fixture.js";
import { runStoreConformance } from "./store-conformance.js";

// createTestPgDatabase throws when LETHE_TEST_PG_URL is unset: a missing server fails, never skips.
runStoreConformance(
  "sql (PostgreSQL)",
  async () => {
    const db = await createTestPgDatabase();
    return sqlFixture(db.url, rawPg(db.url), () => db.drop());
  },
  { capabilities: ["findItems", "list", "contents", "filesInUse", "expiryHistogram", "scrub", "discover"] },
);

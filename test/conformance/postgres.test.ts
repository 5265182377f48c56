import { describe, it } from "vitest";
import { createTestPgDatabase, hasPg } from "../helpers/services.js";
import { rawPg, sqlFixture } from "./sql-fixture.js";
import { runStoreConformance } from "./store-conformance.js";

if (hasPg) {
  runStoreConformance("sql (PostgreSQL)", async () => {
    const db = await createTestPgDatabase();
    return sqlFixture(db.url, rawPg(db.url), () => db.drop());
  });
} else {
  describe("store conformance: sql (PostgreSQL)", () => {
    it.skip("needs LETHE_TEST_PG_URL (run through scripts/with-services.mjs)", () => undefined);
  });
}

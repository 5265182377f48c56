import { sqliteFixture } from "./sql-fixture.js";
import { runStoreConformance } from "./store-conformance.js";

runStoreConformance("sql (SQLite)", sqliteFixture, {
  capabilities: ["findItems", "list", "contents", "filesInUse", "expiryHistogram", "scrub", "purge", "discover"],
});

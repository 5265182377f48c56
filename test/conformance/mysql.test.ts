import type { MysqlTarget } from "../../src/stores/sql/mysql-target.js";
import { createTestMysqlDatabase } from "../helpers/services.js";
import { rawMysql, sqlFixture } from "./sql-fixture.js";
import { runStoreConformance } from "./store-conformance.js";

const CAPABILITIES = ["findItems", "list", "contents", "filesInUse", "expiryHistogram", "scrub", "discover"] as const;

// createTestMysqlDatabase throws when LETHE_TEST_MYSQL_URL is unset: a missing server fails, never skips.
runStoreConformance(
  "sql (MariaDB, DELETE … RETURNING)",
  async () => {
    const db = await createTestMysqlDatabase();
    return sqlFixture(db.url, rawMysql(db.url), () => db.drop());
  },
  { capabilities: [...CAPABILITIES] },
);

// MySQL has no DELETE … RETURNING: the same suite through the locking read it gets, on the same server.
runStoreConformance(
  "sql (MariaDB as MySQL: SELECT … FOR UPDATE, then DELETE)",
  async () => {
    const db = await createTestMysqlDatabase();
    const url = db.url.replace(/^mysql:/, "mariadb:");
    return sqlFixture(
      url,
      rawMysql(db.url),
      () => db.drop(),
      undefined,
      (store) => {
        (store.target as MysqlTarget).deleteMode = "locking-read";
      },
    );
  },
  { capabilities: [...CAPABILITIES] },
);

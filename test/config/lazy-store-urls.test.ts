import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { letheIn, tempDir } from "../helpers/cli.js";

/** Store URLs (and S3 endpoints) given as env: references are resolved only by commands that open a store. */
describe("store URLs are resolved lazily", { timeout: 60_000 }, () => {
  it("audit log and audit export work with a store's env: variable unset; apply names the variable", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1
state: ./.lethe
stores:
  appdb: { kind: sql, url: env:LETHE_TEST_UNSET_APPDB_URL }
  cache: { kind: redis, url: env:LETHE_TEST_UNSET_REDIS_URL }
  blobs: { kind: s3, bucket: lethe-blobs, endpoint: env:LETHE_TEST_UNSET_S3_ENDPOINT }
datasets:
  logs: { store: appdb, table: logs, key: id, createdAt: created_at, retention: 30d }
`,
    );
    expect((await letheIn(["hold", "list"], dir)).code).toBe(0);
    const log = await letheIn(["audit", "log", "--dataset", "logs", "--json"], dir);
    expect(log.code, log.stderr).toBe(0);
    const exp = await letheIn(["audit", "export", "--format", "jsonl"], dir);
    expect(exp.code, exp.stderr).toBe(0);
    const apply = await letheIn(["apply", "--dataset", "logs", "--json"], dir);
    expect(apply.code).toBe(2);
    expect(apply.stdout + apply.stderr).toMatch(
      /stores\.appdb\.url: secret env:LETHE_TEST_UNSET_APPDB_URL: environment variable LETHE_TEST_UNSET_APPDB_URL is not set/,
    );
  });
});

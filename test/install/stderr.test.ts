import { describe, expect, it } from "vitest";
import { lethe, tempDir, writeConfig } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { createTestBucket, requireService } from "../helpers/services.js";

/** A fixed master key, so no "generated a master key" warning (lethe's own, and wanted on first use). */
const KEY = { LETHE_TEST_KEY: "a".repeat(64) };
const WITH_KEY = "secrets: { masterKey: env:LETHE_TEST_KEY }\n";

describe("stderr carries lethe's own messages only", () => {
  it("lethe --version and lethe plan on a SQLite config print nothing on stderr", () => {
    const p = makeProject({ extraYaml: WITH_KEY });
    const v = lethe(["--version"], p.dir, KEY);
    expect(v.code).toBe(0);
    expect(v.stderr).toBe("");
    const plan = lethe(["plan", "--json"], p.dir, KEY);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toBe("");
  });

  it("lethe plan with an s3 store prints no AWS SDK Node-version notice", async (ctx) => {
    requireService(ctx, "s3");
    const t = await createTestBucket();
    try {
      const dir = tempDir();
      writeConfig(
        dir,
        `version: 1
${WITH_KEY}stores:
  blobs: { kind: s3, bucket: ${t.bucket}, endpoint: "${process.env.LETHE_TEST_S3_ENDPOINT}", forcePathStyle: true }
datasets:
  uploads: { store: blobs, retention: 1h }
`,
      );
      const env = { ...KEY, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
      const r = lethe(["plan", "--json"], dir, env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      await t.drop();
    }
  });
});

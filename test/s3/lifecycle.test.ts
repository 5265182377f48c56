import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { datasetPrefix, mergeRules, planLifecycle, toS3Rules } from "../../src/stores/s3/lifecycle-rules.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { createTestBucket, requireService } from "../helpers/services.js";

/*
 * s3rver answers PutBucketLifecycleConfiguration (and Get) with 501
 * NotImplemented, so the generated rules are tested as data here and the
 * CLI is checked to report such a server as "unsupported" (exit 1), never
 * as written.
 */
const NO_HOLDS = { datasets: new Set<string>(), subjects: false };

function config(datasets: Record<string, unknown>, versions = true) {
  return parseConfig(
    {
      version: 1,
      stores: {
        blobs: { kind: "s3", bucket: "inference", prefix: "transient/", versions },
        other: { kind: "s3", bucket: "archive" },
      },
      datasets,
    },
    process.cwd(),
  );
}

describe("lifecycle rules as data", () => {
  it("rounds retention up to whole days, never below the configured retention", async () => {
    const plan = planLifecycle(
      config({
        a: { store: "blobs", retention: "90s", include: ["uploads/**"] },
        b: { store: "blobs", retention: "36h", include: ["scans/**"] },
        c: { store: "blobs", retention: "30d", include: ["results/**"] },
      }),
      NO_HOLDS,
    );
    const rules = plan.buckets.find((b) => b.bucket === "inference")?.rules ?? [];
    expect(rules.map((r) => [r.id, r.prefix, r.days])).toEqual([
      ["lethe-a", "transient/uploads/", 1],
      ["lethe-b", "transient/scans/", 2],
      ["lethe-c", "transient/results/", 30],
    ]);
    for (const [r, seconds] of [
      [rules[0], 90],
      [rules[1], 36 * 3600],
      [rules[2], 30 * 86_400],
    ] as const)
      expect((r?.days ?? 0) * 86_400).toBeGreaterThanOrEqual(seconds);
    // The other bucket has no rule but is still synced, so stale lethe rules are removed there.
    expect(plan.buckets.find((b) => b.bucket === "archive")?.rules).toEqual([]);
  });

  it("versioned stores expire noncurrent versions too; unversioned ones do not", async () => {
    const v = planLifecycle(config({ a: { store: "blobs", retention: "2d" } }), NO_HOLDS);
    expect(toS3Rules(v.buckets[0]?.rules ?? [])).toEqual([
      {
        ID: "lethe-a",
        Status: "Enabled",
        Filter: { Prefix: "transient/" },
        Expiration: { Days: 2 },
        NoncurrentVersionExpiration: { NoncurrentDays: 2 },
      },
    ]);
    const p = planLifecycle(config({ a: { store: "blobs", retention: "2d" } }, false), NO_HOLDS);
    expect(toS3Rules(p.buckets[0]?.rules ?? [])[0]?.NoncurrentVersionExpiration).toBeUndefined();
  });

  it("leaves out datasets a prefix filter cannot express, with no fixed retention, or under holds", async () => {
    const cfg = config({
      globs: { store: "blobs", retention: "1d", include: ["**/*.png"] },
      excl: { store: "blobs", retention: "1d", exclude: ["keep/**"] },
      forever: { store: "blobs", retention: "never" },
      held: { store: "blobs", retention: "1d", include: ["held/**"] },
      people: { store: "blobs", retention: "1d", include: ["users/**"], subjectFromPath: "users/{subject}/**" },
    });
    const plan = planLifecycle(cfg, { datasets: new Set(["held"]), subjects: true });
    expect(plan.buckets.flatMap((b) => b.rules)).toEqual([]);
    expect(plan.skipped.map((s) => s.dataset).sort()).toEqual(["excl", "forever", "globs", "held", "people"]);
    expect(planLifecycle(cfg, NO_HOLDS).buckets.flatMap((b) => b.rules.map((r) => r.id))).toEqual([
      "lethe-held",
      "lethe-people",
    ]);
  });

  it("datasetPrefix accepts only a plain prefix", async () => {
    expect(datasetPrefix({ include: [], exclude: [] })).toBe("");
    expect(datasetPrefix({ include: ["**"], exclude: [] })).toBe("");
    expect(datasetPrefix({ include: ["a/b/**"], exclude: [] })).toBe("a/b/");
    expect(datasetPrefix({ include: ["a/*/c/**"], exclude: [] })).toBeUndefined();
    expect(datasetPrefix({ include: ["a/**", "b/**"], exclude: [] })).toBeUndefined();
    expect(datasetPrefix({ include: ["a/**/*.bin"], exclude: [] })).toBeUndefined();
  });

  it("merging keeps the bucket's own rules and replaces every earlier lethe rule", async () => {
    const own = {
      ID: "archive-logs",
      Status: "Enabled" as const,
      Filter: { Prefix: "logs/" },
      Expiration: { Days: 400 },
    };
    const stale = { ID: "lethe-gone", Status: "Enabled" as const, Filter: { Prefix: "x/" }, Expiration: { Days: 1 } };
    const ours = toS3Rules([{ id: "lethe-a", dataset: "a", prefix: "t/", days: 3 }]);
    expect(mergeRules([own, stale], ours)).toEqual([own, ...ours]);
  });
});

describe("lethe lifecycle sync", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
  });
  afterEach(async () => {
    await t?.drop();
  });

  function project(): string {
    const dir = tempDir("lethe-s3-lifecycle-");
    writeConfig(
      dir,
      `version: 1
stores:
  blobs: { kind: s3, bucket: ${t.bucket}, prefix: "transient/", endpoint: "${process.env.LETHE_TEST_S3_ENDPOINT}", forcePathStyle: true }
datasets:
  uploads: { store: blobs, retention: 25h, include: ["uploads/**"] }
  scans: { store: blobs, retention: 1d, include: ["**/*.dcm"] }
`,
    );
    return dir;
  }

  it("--dry-run shows the rules and writes nothing", async () => {
    const r = await letheIn(["lifecycle", "sync", "--dry-run", "--json"], project());
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({
      dryRun: true,
      buckets: [
        {
          store: "blobs",
          bucket: t.bucket,
          status: "dry-run",
          rules: [
            { id: "lethe-uploads", dataset: "uploads", prefix: "transient/uploads/", days: 2, noncurrentDays: 2 },
          ],
        },
      ],
      skipped: [{ dataset: "scans", reason: expect.stringContaining("not a plain key prefix") }],
    });
  });

  it("a server without lifecycle support is reported as unsupported, exit 1", async () => {
    const r = await letheIn(["lifecycle", "sync", "--json"], project());
    expect(r.code).toBe(1);
    const j = r.json as { buckets: { status: string; reason: string }[] };
    expect(j.buckets[0]?.status).toBe("unsupported");
    expect(j.buckets[0]?.reason).toContain("NotImplemented");
  });
});

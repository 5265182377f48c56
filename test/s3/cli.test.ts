import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { until } from "../helpers/wait.js";
import { listAll, putObjects } from "./s3-helpers.js";

const RETENTION_S = 20;
const OLD = ["lethe/users/alice/old-1.bin", "lethe/users/bob/old-2.bin", "lethe/users/bob/old-3.bin"];
const FRESH = [
  "lethe/users/alice/new-1.bin",
  "lethe/users/carol/new-2.bin",
  "lethe/users/carol/new-3.bin",
  "lethe/users/dave/new-4.bin",
];
const FOREIGN = ["elsewhere/users/alice/old-9.bin", "lethe/users/alice/keep.txt"];

interface ApplyJson {
  runId: string;
  datasets: { name: string; expired: number; deleted: number; held: number; failed: number; filesRemoved: number }[];
}

/** Runs CLI commands (in-process) against s3rver, then reads the bucket with our own client. */
describe("lethe apply with an s3 dataset", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await t?.drop();
  });

  it("deletes exactly the expired objects under the prefix, records each, and the ledger verifies", async () => {
    const dir = tempDir("lethe-s3-cli-");
    writeConfig(
      dir,
      `version: 1
state: ./.lethe
stores:
  blobs: { kind: s3, bucket: ${t.bucket}, prefix: "lethe/", endpoint: "${process.env.LETHE_TEST_S3_ENDPOINT}", forcePathStyle: true }
datasets:
  uploads:
    store: blobs
    include: ["users/**/*.bin"]
    subjectFromPath: "users/{subject}/**"
    retention: ${RETENTION_S}s
`,
    );
    // LastModified is the server's clock, to the second: the old objects now, the fresh ones once the server
    // stamps a later second (polled: rewritten until it does). lethe then runs with its clock set (Date only)
    // to just past the old objects' retention, before the fresh ones': no wall-clock wait for 20 s to pass.
    await putObjects(t.client, t.bucket, [...OLD, ...FOREIGN]);
    const stamps = async (keys: string[]) =>
      (await listAll(t.client, t.bucket)).filter((o) => keys.includes(o.key)).map((o) => o.lastModified.getTime());
    const oldAt = Math.max(...(await stamps([...OLD, ...FOREIGN])));
    const freshAt = await until(
      async () => {
        await putObjects(t.client, t.bucket, FRESH);
        const at = Math.min(...(await stamps(FRESH)));
        return at > oldAt && at;
      },
      30_000,
      200,
    );
    const now = oldAt + RETENTION_S * 1000 + 200;
    expect(freshAt + RETENTION_S * 1000).toBeGreaterThan(now); // the fresh objects are not expired at `now`
    vi.useFakeTimers({ toFake: ["Date"], now });

    const plan = await letheIn(["plan", "--json"], dir);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json).toMatchObject({ datasets: [{ name: "uploads", store: "blobs", total: 7, expired: 3, held: 0 }] });
    const apply = await letheIn(["apply", "--json"], dir);
    expect(apply.code, apply.stderr).toBe(0);
    const aj = apply.json as ApplyJson;
    expect(aj.datasets).toEqual([
      { name: "uploads", expired: 3, deleted: 3, held: 0, failed: 0, filesRemoved: 0, failures: [] },
    ]);

    const left = (await listAll(t.client, t.bucket)).map((o) => o.key).sort();
    expect(left).toEqual([...FRESH, ...FOREIGN].sort());

    const log = (await letheIn(["audit", "log", "--run", aj.runId, "--json"], dir)).json as {
      entries: {
        action: string;
        item?: number;
        key?: string;
        keyHash?: string;
        keyTag?: string;
        subjectHash?: string;
        subjectTag?: string;
      }[];
    };
    // Ledger v2: the run's deletions are items of a batch entry, listed one record each.
    const deleted = log.entries.filter((e) => e.action === "deleted");
    expect(deleted).toHaveLength(3);
    // Object keys are not integers: only an HMAC tag of them is on the ledger, and of the subject's HMAC.
    for (const e of deleted) {
      expect(e.item).toEqual(expect.any(Number));
      expect(e.key).toBeUndefined();
      expect(e.keyHash).toBeUndefined();
      expect(e.keyTag).toMatch(/^[0-9a-f]{16}$/);
      expect(e.subjectTag).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(new Set(deleted.map((e) => e.keyTag)).size).toBe(3);

    // Erasure: every object of one subject, only under the prefix and matched by the globs.
    const dry = await letheIn(["erase", "alice", "--json"], dir);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({
      subject: "alice",
      dryRun: true,
      datasets: [{ name: "uploads", found: 1, deleted: 0 }],
    });
    const erase = await letheIn(["erase", "alice", "--yes", "--json"], dir);
    expect(erase.code, erase.stderr).toBe(0);
    expect(erase.json).toMatchObject({
      subject: "alice",
      dryRun: false,
      datasets: [{ name: "uploads", found: 1, deleted: 1 }],
    });
    const afterErase = (await listAll(t.client, t.bucket)).map((o) => o.key).sort();
    expect(afterErase).toEqual([...FRESH, ...FOREIGN].filter((k) => k !== "lethe/users/alice/new-1.bin").sort());
    expect((await letheIn(["audit", "verify", "--json"], dir)).json).toMatchObject({ ok: true });
    // Neither keys nor subject ids are written in clear into lethe's state files.
    const stateDir = join(dir, ".lethe");
    for (const f of readdirSync(stateDir)) {
      const bytes = readFileSync(join(stateDir, f));
      for (const needle of ["old-1.bin", "users/bob", "alice"])
        expect(bytes.includes(Buffer.from(needle)), `${f} holds ${needle}`).toBe(false);
    }
  }, 90_000);

  it("a missing bucket is a configuration error (exit 2) naming the key", async () => {
    const dir = tempDir("lethe-s3-cli-");
    writeConfig(
      dir,
      `version: 1
stores:
  blobs: { kind: s3, bucket: no-such-bucket-${process.pid}, endpoint: "${process.env.LETHE_TEST_S3_ENDPOINT}", forcePathStyle: true }
datasets:
  uploads: { store: blobs, retention: 1d }
`,
    );
    const r = await letheIn(["plan", "--json"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain("stores.blobs.bucket");
  });

  it("a missing region (no endpoint, nothing in the SDK chain) is a configuration error naming the key", async () => {
    const dir = tempDir("lethe-s3-cli-");
    writeConfig(
      dir,
      "version: 1\nstores:\n  blobs: { kind: s3, bucket: some-bucket }\ndatasets:\n  u: { store: blobs, retention: 1d }\n",
    );
    const r = await letheIn(["plan", "--json"], dir, {
      AWS_REGION: "",
      AWS_PROFILE: "",
      HOME: dir,
      AWS_CONFIG_FILE: `${dir}/none`,
    });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({
      error: { code: "CONFIG_INVALID", message: expect.stringContaining("stores.blobs.region") },
    });
  });
});

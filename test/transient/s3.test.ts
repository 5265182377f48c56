import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { listAll, putObjects } from "../s3/s3-helpers.js";
import { makeTransientProject } from "./helpers.js";

/** Events and the janitor on an s3 dataset, through the generic driver interface, checked with our own S3 client. */
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

async function s3Project(retention: string) {
  const t = await createTestBucket();
  cleanup.push(() => t.drop());
  const p = makeTransientProject({
    extra: {
      safety: { maxFraction: 1 },
      stores: {
        files: { kind: "fs", root: "./data" },
        blobs: {
          kind: "s3",
          bucket: t.bucket,
          prefix: "lethe/",
          endpoint: process.env.LETHE_TEST_S3_ENDPOINT,
          forcePathStyle: true,
        },
      },
    },
    datasets: {
      uploads: {
        store: "blobs",
        include: ["users/**"],
        subjectFromPath: "users/{subject}/**",
        retention,
        events: true,
      },
    },
  });
  const lethe: Lethe = await p.open();
  cleanup.push(() => lethe.close());
  return { t, p, lethe };
}

describe("transient data on an s3 store", () => {
  it("lethe.complete deletes the listed objects (subject holds respected) and nothing else", async (ctx) => {
    requireService(ctx, "s3");
    const { t, lethe } = await s3Project("30d");
    const keys = [
      "lethe/users/u1/req-1/in.dcm",
      "lethe/users/u1/req-1/out.json",
      "lethe/users/u2/req-1/in.dcm",
      "lethe/users/u1/req-2/in.dcm",
      "other/req-1.bin",
    ];
    await putObjects(t.client, t.bucket, keys);
    await lethe.holds.add({ subject: "u2", reason: "litigation" });
    const r = await lethe.complete({
      requestId: "req-1",
      artifacts: ["lethe/users/u1/req-1/in.dcm", "lethe/users/u1/req-1/out.json", "lethe/users/u2/req-1/in.dcm"].map(
        (key) => ({ dataset: "uploads", key }),
      ),
    });
    expect(r.status).toBe("done");
    expect(r.result?.datasets).toEqual([{ name: "uploads", requested: 3, deleted: 2, missing: 0, held: 1, failed: 0 }]);
    expect((await listAll(t.client, t.bucket)).map((o) => o.key).sort()).toEqual([
      "lethe/users/u1/req-2/in.dcm",
      "lethe/users/u2/req-1/in.dcm",
      "other/req-1.bin",
    ]);
    const log = await lethe.audit.log({ runId: r.id });
    expect(log.map((e) => e.action).sort()).toEqual(["deleted", "deleted", "event_received", "held"]);
    expect(log.find((e) => e.action === "held")?.subjectHash).toBe(lethe.ledger.subjectHash("u2"));
  });

  it("the janitor finds objects past expiry + grace, reports the lag, and --apply deletes them", async (ctx) => {
    requireService(ctx, "s3");
    const { t, lethe } = await s3Project("1s");
    await putObjects(t.client, t.bucket, ["lethe/users/u1/a.bin", "lethe/users/u3/b.bin", "other/c.bin"]);
    // Judged at an instant 2.2 s past the newest object's LastModified (the server's clock), not after a wait.
    const newest = Math.max(...(await listAll(t.client, t.bucket)).map((o) => o.lastModified.getTime()));
    const now = new Date(newest + 2200);
    const r = await lethe.janitor({ graceSeconds: 0, now });
    expect(r.findings.map((f) => f.kind)).toEqual(["expired_item", "expired_item"]);
    expect(r.findings.every((f) => f.keyHash && !("key" in f))).toBe(true);
    expect(r.lag[0]?.seconds).toBeGreaterThanOrEqual(1);
    const fix = await lethe.janitor({ graceSeconds: 0, apply: true, now });
    expect(fix.findings.every((f) => f.fixed)).toBe(true);
    expect((await listAll(t.client, t.bucket)).map((o) => o.key)).toEqual(["other/c.bin"]);
    const deleted = (await lethe.audit.log({})).filter((e) => e.action === "deleted");
    expect(deleted.map((e) => e.reason)).toEqual(["janitor", "janitor"]);
  });
});

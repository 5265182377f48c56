import type { ObjectIdentifier } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { s3Client } from "../../src/stores/s3/client.js";
import { deleteObjects } from "../../src/stores/s3/delete-objects.js";
import { compareKeys, startBefore } from "../../src/stores/s3/key-order.js";
import { foldVersions } from "../../src/stores/s3/key-state.js";
import { type RawVersion, VersionGrouper } from "../../src/stores/s3/listing.js";
import { listingMode } from "../../src/stores/s3/versioning.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { deleteRequests, type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { putObjects, s3StoreConfig } from "./s3-helpers.js";

/*
 * s3rver has no versioning: GetBucketVersioning answers 501 NotImplemented
 * and ListObjectVersions 405 MethodNotAllowed. What can be tested here:
 * the pure version logic (grouping pages, expiry of a key, markers), the
 * fallback to plain listing on such a server, and deleting one key through
 * many version identifiers across DeleteObjects requests (s3rver ignores the
 * VersionId and deletes the key, which is what the outcome bookkeeping needs).
 */
const at = (s: number) => new Date(s * 1000);
const row = (key: string, versionId: string, t: number, deleteMarker = false): RawVersion => ({
  key,
  versionId,
  lastModified: at(t),
  size: deleteMarker ? 0 : 10,
  deleteMarker,
});

describe("s3 versions: pure logic", () => {
  it("a key expires by its newest data version; delete markers are kept for deletion but hold no data", () => {
    const s = foldVersions("k", [row("k", "m1", 300, true), row("k", "v2", 200), row("k", "v1", 100)]);
    expect(s?.lastModified).toEqual(at(200));
    expect(s?.size).toBe(20);
    expect(s?.versions?.map((v) => v.versionId)).toEqual(["m1", "v2", "v1"]);
    expect(foldVersions("k", [row("k", "m1", 300, true)])).toBeUndefined();
  });

  it("groups a key whose versions span pages into one state, emitted when complete", () => {
    const g = new VersionGrouper();
    expect(g.add([row("a", "1", 1), row("b", "1", 2), row("b", "2", 3)], true).map((s) => s.key)).toEqual(["a"]);
    const second = g.add([row("b", "3", 4, true), row("c", "1", 5, true)], true);
    expect(second.map((s) => [s.key, s.versions?.length])).toEqual([["b", 3]]);
    // "c" only has a delete marker: no data, not an item.
    expect(g.add([], false)).toEqual([]);
  });

  it("range starts sort before the key in S3 (UTF-8) order", () => {
    for (const key of ["a", "logs/b", "x/é.bin", "y/😀", "z/\u{FFFD}", "users/u1/"]) {
      const s = startBefore(key);
      if (s !== undefined) expect(compareKeys(s, key)).toBeLessThan(0);
    }
    expect(startBefore("logs/b")).toBe("logs/a\u{10FFFF}");
    expect(compareKeys("\u{FFFD}", "😀")).toBeLessThan(0); // UTF-16 order would say the opposite
  });
});

describe("s3 versions: on a server without versioning (s3rver)", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  let proxy: FaultProxy;

  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
    proxy = await startFaultProxy(process.env.LETHE_TEST_S3_ENDPOINT as string);
  });
  afterEach(async () => {
    await proxy?.close();
    await t?.drop();
  });

  it("versions: true falls back to plain listing without a warning", async () => {
    const client = s3Client(s3StoreConfig(t.bucket));
    try {
      const mode = await listingMode(client, s3StoreConfig(t.bucket));
      expect(mode.lister.versioned).toBe(false);
      expect(mode.warning).toBeUndefined();
    } finally {
      client.destroy();
    }
  });

  it("deletes keys named by 1,500 version identifiers each, in requests of at most 1,000; a failed version fails its key", async () => {
    await putObjects(t.client, t.bucket, ["lethe/a.bin", "lethe/b.bin"]);
    const ids = (key: string): ObjectIdentifier[] =>
      Array.from({ length: 1500 }, (_, i) => ({ Key: key, VersionId: `v${i}` }));
    const client = s3Client(s3StoreConfig(t.bucket, { endpoint: proxy.endpoint }));
    try {
      proxy.keyFaults.push({
        match: (k, id) => k === "lethe/b.bin" && id.VersionId === "v1200",
        code: "InternalError",
        message: "We encountered an internal error",
      });
      const r = await deleteObjects(client, t.bucket, [
        { key: "lethe/a.bin", ids: ids("lethe/a.bin") },
        { key: "lethe/b.bin", ids: ids("lethe/b.bin") },
      ]);
      expect([...r.deleted]).toEqual(["lethe/a.bin"]);
      expect([...r.failed]).toEqual([["lethe/b.bin", "InternalError: We encountered an internal error"]]);
      const sizes = deleteRequests(proxy).map((d) => d.objects?.length);
      expect(sizes.every((n) => (n ?? 0) <= 1000)).toBe(true);
      expect(sizes.reduce((a = 0, b = 0) => a + b, 0)).toBe(3000);
      // (What is left in the bucket says nothing here: without versions, s3rver removed
      // b.bin with the first of its chunks. The report is what is under test.)
    } finally {
      client.destroy();
    }
  });
});

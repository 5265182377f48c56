import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";
import { createS3Store } from "../../src/stores/s3/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { deleteRequests, type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { listAll, putObjects, s3StoreConfig } from "./s3-helpers.js";

const KEYS = Array.from({ length: 12 }, (_, i) => `lethe/users/u${i % 3}/file-${String(i).padStart(2, "0")}.bin`);
const item = (key: string): Item => ({ key });

describe("s3 driver: DeleteObjects errors are reported, never dropped", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  let proxy: FaultProxy;
  let store: StoreDriver;
  let ds: DatasetDriver;
  // Retention of 0s: everything written is already expired, so retention deletes (with ETags) run too.
  const now = () => new Date(Date.now() + 2_000);

  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
    proxy = await startFaultProxy(process.env.LETHE_TEST_S3_ENDPOINT as string);
    store = await createS3Store(s3StoreConfig(t.bucket, { endpoint: proxy.endpoint }));
    const cfg = datasetConfig({
      name: "uploads",
      store: "blobs",
      storeKind: "s3",
      retention: { kind: "duration", seconds: 0 },
    });
    ds = (await store.dataset(cfg, collectIssues())) as DatasetDriver;
    await putObjects(t.client, t.bucket, KEYS);
  });
  afterEach(async () => {
    await store?.close();
    await proxy?.close();
    await t?.drop();
  });

  const remaining = async () => (await listAll(t.client, t.bucket)).map((o) => o.key).sort();

  it("turns per-key errors into failed items with the S3 code, and deletes the rest", async () => {
    const denied = new Set([KEYS[1], KEYS[5], KEYS[9]]);
    proxy.keyFaults.push({ match: (k) => denied.has(k), code: "AccessDenied", message: "Access Denied" });
    const r = await ds.deleteBatch(KEYS.map(item), { action: "delete" });
    expect(r.deleted.map((i) => i.key).sort()).toEqual(KEYS.filter((k) => !denied.has(k)).sort());
    expect(r.failed.map((f) => f.item.key).sort()).toEqual([...denied].sort());
    for (const f of r.failed) {
      expect(f.reason).toBe("AccessDenied: Access Denied");
      expect(f.reason).not.toContain(String(f.item.key));
    }
    expect(await remaining()).toEqual([...denied].sort());
  });

  it("sends the re-checked ETag on retention deletes; a PreconditionFailed key is left, neither deleted nor failed", async () => {
    proxy.keyFaults.push({
      match: (k) => k === KEYS[0],
      code: "PreconditionFailed",
      message: "At least one of the pre-conditions you specified did not hold",
    });
    const r = await ds.deleteBatch(KEYS.map(item), { action: "delete", expiredAt: now() });
    expect(r.failed).toEqual([]);
    expect(r.deleted).toHaveLength(KEYS.length - 1);
    expect(await remaining()).toEqual([KEYS[0]]);
    const sent = deleteRequests(proxy).flatMap((d) => d.objects ?? []);
    expect(sent.every((o) => typeof o.ETag === "string" && o.ETag.length > 2)).toBe(true);
  });

  it("erasure deletes (no expiredAt) are unconditional", async () => {
    const r = await ds.deleteBatch(KEYS.map(item), { action: "delete" });
    expect(r.deleted).toHaveLength(KEYS.length);
    expect(
      deleteRequests(proxy)
        .flatMap((d) => d.objects ?? [])
        .some((o) => o.ETag !== undefined),
    ).toBe(false);
  });

  it("drops ETag conditions for good when the server does not implement them", async () => {
    proxy.keyFaults.push({
      match: (_k, id) => id.ETag !== undefined,
      code: "NotImplemented",
      message: "conditional deletes",
    });
    const first = await ds.deleteBatch(KEYS.slice(0, 6).map(item), { action: "delete", expiredAt: now() });
    expect(first).toEqual({ deleted: KEYS.slice(0, 6).map(item), failed: [] });
    const requestsBefore = deleteRequests(proxy).length;
    const second = await ds.deleteBatch(KEYS.slice(6).map(item), { action: "delete", expiredAt: now() });
    expect(second.deleted).toHaveLength(6);
    expect(deleteRequests(proxy).length).toBe(requestsBefore + 1); // no second rejected attempt
    expect(await remaining()).toEqual([]);
  });

  it("a request that fails after deleting is settled by looking: the gone keys count as deleted", async () => {
    proxy.requestFault = "after";
    const r = await ds.deleteBatch(KEYS.map(item), { action: "delete" });
    expect(r.failed).toEqual([]);
    expect(r.deleted).toHaveLength(KEYS.length);
    expect(await remaining()).toEqual([]);
  });

  it("a request that fails without deleting reports every key as failed, with the reason", async () => {
    proxy.requestFault = "before";
    const r = await ds.deleteBatch(KEYS.map(item), { action: "delete" });
    expect(r.deleted).toEqual([]);
    expect(r.failed).toHaveLength(KEYS.length);
    expect(r.failed[0]?.reason).toMatch(/^DeleteObjects failed: InternalError/);
    expect(await remaining()).toEqual([...KEYS].sort());
  });
});

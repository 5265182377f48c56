import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";
import { createS3Store } from "../../src/stores/s3/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { deleteRequests, type FaultProxy, listRequests, startFaultProxy } from "./fault-proxy.js";
import { listAll, putObjects, s3StoreConfig, writeOldThenFresh } from "./s3-helpers.js";

const DAY = 86_400;
// More than one list page and one DeleteObjects request (1,000 keys each) is all the behaviour needs: 1,100 old
// keys plus 60 fresh ones are two pages, and two deletes of 1,000 and 100.
const OLD = 1_100;
const pad = (n: number) => String(n).padStart(5, "0");

describe("s3 driver: more than one page and more than one DeleteObjects batch", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  let proxy: FaultProxy;
  let store: StoreDriver;
  let ds: DatasetDriver;

  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
    proxy = await startFaultProxy(process.env.LETHE_TEST_S3_ENDPOINT as string);
    store = await createS3Store(s3StoreConfig(t.bucket, { endpoint: proxy.endpoint }));
    const opened = await store.dataset(
      datasetConfig({
        name: "uploads",
        store: "blobs",
        storeKind: "s3",
        retention: { kind: "duration", seconds: DAY },
      }),
      collectIssues(),
    );
    ds = opened as DatasetDriver;
  });
  afterEach(async () => {
    await store?.close();
    await proxy?.close();
    await t?.drop();
  });

  it("lists every page, deletes in requests of at most 1,000 keys, and leaves fresh and foreign objects", async () => {
    const old = Array.from({ length: OLD }, (_, i) => `lethe/obj-${pad(i * 2)}`);
    // Fresh keys sort between the old ones, so a re-check range covers both.
    const fresh = Array.from({ length: 60 }, (_, i) => `lethe/obj-${pad(i * 2 + 1)}`);
    const foreign = Array.from({ length: 30 }, (_, i) => `lethd/obj-${pad(i)}`);
    await putObjects(t.client, t.bucket, foreign);
    const now = await writeOldThenFresh(t.client, t.bucket, old, fresh, DAY);

    proxy.requests.length = 0;
    expect(await ds.count()).toBe(OLD + 60);
    expect(listRequests(proxy).length).toBe(2); // 1,160 keys: 1,000 + 160

    const batches: Item[][] = [];
    for await (const b of ds.scanExpired(now, 5_000)) batches.push(b);
    expect(batches.map((b) => b.length)).toEqual([OLD]);

    proxy.requests.length = 0;
    const r = await ds.deleteBatch(batches[0] as Item[], { action: "delete", expiredAt: now });
    expect(r.failed).toEqual([]);
    expect(r.deleted).toHaveLength(OLD);
    const deletes = deleteRequests(proxy);
    expect(deletes.map((d) => d.objects?.length)).toEqual(expect.arrayContaining([1000, 100]));
    expect(deletes).toHaveLength(2);
    // The re-check before deleting is a range listing, not a HEAD per key.
    expect(proxy.requests.filter((q) => q.method === "HEAD")).toHaveLength(0);
    expect(listRequests(proxy).length).toBeLessThanOrEqual(3);

    const left = (await listAll(t.client, t.bucket)).map((o) => o.key).sort();
    expect(left).toEqual([...foreign, ...fresh].sort());
  });
});

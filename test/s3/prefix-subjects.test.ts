import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";
import { createS3Store } from "../../src/stores/s3/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { type FaultProxy, listRequests, startFaultProxy } from "./fault-proxy.js";
import { listAll, putObjects, s3StoreConfig } from "./s3-helpers.js";

const ALICE = ["lethe/users/alice/1.bin", "lethe/users/alice/deep/2.bin"];
const OTHERS = [
  "lethe/users/ali/x.bin", // a prefix of "alice" is another subject
  "lethe/users/alice2/y.bin",
  "lethe/users/bob/b.bin",
  "lethe/users/alice/notes.txt", // not matched by the dataset's globs
  "lethe-old/users/alice/1.bin", // outside the prefix "lethe/"
  "other/users/alice/1.bin",
];

async function collect(it: AsyncIterable<Item[]>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

describe("s3 driver: prefix isolation and erasure by subjectFromPath", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>;
  let proxy: FaultProxy;
  let store: StoreDriver;

  beforeEach(async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
    proxy = await startFaultProxy(process.env.LETHE_TEST_S3_ENDPOINT as string);
    store = await createS3Store(s3StoreConfig(t.bucket, { endpoint: proxy.endpoint }));
    await putObjects(t.client, t.bucket, [...ALICE, ...OTHERS]);
  });
  afterEach(async () => {
    await store?.close();
    await proxy?.close();
    await t?.drop();
  });

  async function open(subjectFromPath: string): Promise<DatasetDriver> {
    const cfg = datasetConfig({
      name: "uploads",
      store: "blobs",
      storeKind: "s3",
      include: ["**/*.bin"],
      subjectFromPath,
    });
    return (await store.dataset(cfg, collectIssues())) as DatasetDriver;
  }
  const remaining = async () => (await listAll(t.client, t.bucket)).map((o) => o.key).sort();

  it("erases exactly one subject's objects, listing only that subject's prefix", async () => {
    const ds = await open("users/{subject}/**");
    expect(await ds.count()).toBe(5);
    proxy.requests.length = 0;
    const found = await collect(ds.scanSubject("alice", 1));
    expect(found.map((i) => i.key).sort()).toEqual(ALICE);
    expect(found.every((i) => i.subject === "alice")).toBe(true);
    const prefixes = listRequests(proxy).map((r) => new URL(r.url, "http://x").searchParams.get("prefix"));
    expect(prefixes).toEqual(["lethe/users/alice"]);

    const r = await ds.deleteBatch(found, { action: "delete" });
    expect(r.deleted.map((i) => i.key).sort()).toEqual(ALICE);
    expect(await remaining()).toEqual([...OTHERS].sort());
    expect(await collect(ds.scanSubject("alice", 10))).toEqual([]);
  });

  it("a wildcard before {subject} lists the whole prefix and still matches exactly", async () => {
    const ds = await open("*/{subject}/**");
    proxy.requests.length = 0;
    const found = await collect(ds.scanSubject("alice", 10));
    expect(found.map((i) => i.key).sort()).toEqual(ALICE);
    expect(listRequests(proxy).map((r) => new URL(r.url, "http://x").searchParams.get("prefix"))).toEqual(["lethe/"]);
  });

  it("deletes arbitrary keys of the dataset (event artifacts) and never one outside it", async () => {
    const ds = await open("users/{subject}/**");
    const asked = [
      "lethe/users/bob/b.bin", // ours: deleted
      "lethe/users/bob/missing.bin", // ours but absent: neither deleted nor failed
      "other/users/alice/1.bin", // outside the prefix: left alone
      "lethe/users/alice/notes.txt", // not matched by the globs: left alone
    ];
    const r = await ds.deleteBatch(
      asked.map((key) => ({ key })),
      { action: "delete" },
    );
    expect(r).toEqual({ deleted: [{ key: "lethe/users/bob/b.bin" }], failed: [] });
    expect(await remaining()).toEqual([...ALICE, ...OTHERS].filter((k) => k !== "lethe/users/bob/b.bin").sort());
    const ex = await ds.existing(["lethe/users/alice/1.bin", "other/users/alice/1.bin", "lethe/users/bob/b.bin"]);
    expect([...ex]).toEqual(["lethe/users/alice/1.bin"]);
  });
});

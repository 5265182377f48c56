import { DeleteObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll } from "vitest";
import type { Item } from "../../src/core/types.js";
import { createS3Store } from "../../src/stores/s3/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestBucket } from "../helpers/services.js";
import { listAll, putObjects, s3StoreConfig, writeOldThenFreshIn } from "../s3/s3-helpers.js";
import { type ConformanceFixture, ITEMS, runStoreConformance } from "./store-conformance.js";

const DAY = 86_400;
const PREFIX = "lethe/";
/** Beside the dataset: outside the prefix, and inside it but not matched by the globs. */
const BYSTANDERS = ["other/users/alice/a1.bin", `${PREFIX}users/README.md`];

const keyOf = (name: string, subject = "none") => `${PREFIX}users/${subject}/${name}.bin`;
const nameOfKey = (key: string) => key.split("/").pop()?.replace(".bin", "") ?? key;
const KEYS = new Map(ITEMS.map((it) => [it.name, keyOf(it.name, it.subject)]));

type TestBucket = Awaited<ReturnType<typeof createTestBucket>>;

/**
 * S3 objects always get the server's current time as LastModified, so the fixture cannot backdate "expired"
 * items: it writes them first, waits for the clock's next second, writes the fresh ones, and evaluates expiry at
 * a future instant at which exactly the first group is past its retention. That wait was most of each test's
 * time, so buckets are seeded with the suite's items GROUP at a time (one group covers the suite), one wait per
 * group, and each test takes a bucket of its own (tests delete: none shares one).
 */
const GROUP = 12;
const ready: { t: TestBucket; now: Date }[] = [];
/** Buckets whose test is done: dropped together at the end. */
const used: TestBucket[] = [];
let filling: Promise<void> | undefined;
afterAll(async () => {
  await filling?.catch(() => undefined);
  await Promise.all([...ready.splice(0).map((r) => r.t), ...used.splice(0)].map((t) => t.drop()));
});

async function seedGroup(): Promise<void> {
  const buckets = await Promise.all(Array.from({ length: GROUP }, () => createTestBucket()));
  try {
    const client = (buckets[0] as TestBucket).client;
    await Promise.all(buckets.map((t) => putObjects(client, t.bucket, BYSTANDERS)));
    const old = ITEMS.filter((i) => i.expired).map((i) => KEYS.get(i.name) as string);
    const fresh = ITEMS.filter((i) => !i.expired).map((i) => KEYS.get(i.name) as string);
    const names = buckets.map((t) => t.bucket);
    const now = await writeOldThenFreshIn(client, names, old, fresh, DAY);
    for (const t of buckets) ready.push({ t, now });
  } catch (err) {
    for (const t of buckets) await t.drop().catch(() => undefined);
    throw err;
  }
}

/** A bucket of its own holding the bystanders and the suite's ITEMS: the old ones expired at `now`, the others not. */
async function seededBucket(): Promise<{ t: TestBucket; now: Date }> {
  while (ready.length === 0) {
    filling ??= seedGroup().finally(() => {
      filling = undefined;
    });
    await filling;
  }
  return ready.shift() as { t: TestBucket; now: Date };
}

async function s3Fixture(): Promise<ConformanceFixture> {
  const { t, now } = await seededBucket();
  const store = await createS3Store(s3StoreConfig(t.bucket, { prefix: PREFIX }));
  const ds = datasetConfig({
    name: "uploads",
    store: "blobs",
    storeKind: "s3",
    include: ["users/**/*.bin"],
    subjectFromPath: "users/{subject}/**",
    retention: { kind: "duration", seconds: DAY },
  });
  const issues = collectIssues();
  const dataset = await store.dataset(ds, issues);
  if (!dataset || issues.errors.length > 0) throw new Error(`s3 dataset did not open: ${issues.errors.join("; ")}`);
  return {
    store,
    dataset,
    async seed(items) {
      // The bucket already holds the suite's ITEMS (see seededBucket); the suite seeds nothing else.
      if (JSON.stringify(items) !== JSON.stringify(ITEMS)) throw new Error("the s3 fixture seeds only ITEMS");
      return now;
    },
    async present() {
      return (await listAll(t.client, t.bucket, `${PREFIX}users/`))
        .filter((o) => o.key.endsWith(".bin"))
        .map((o) => nameOfKey(o.key));
    },
    nameOf(item: Item) {
      return nameOfKey(String(item.key));
    },
    async removeBehindBack(name) {
      await t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: KEYS.get(name) }));
    },
    hooks: { foreignKeys: [...BYSTANDERS, "users/alice/a1.bin", `${PREFIX}users/alice/a1.txt`] },
    async close() {
      try {
        for (const k of BYSTANDERS) await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: k }));
      } finally {
        await store.close();
        used.push(t);
      }
    },
  };
}

// createTestBucket throws when LETHE_TEST_S3_ENDPOINT is unset: a missing server fails, never skips.
runStoreConformance("s3 (s3rver)", s3Fixture, { capabilities: ["ownsKey", "subjectOf", "discover"] });

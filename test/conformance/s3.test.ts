import { DeleteObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import type { Item } from "../../src/core/types.js";
import { createS3Store } from "../../src/stores/s3/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { createTestBucket } from "../helpers/services.js";
import { listAll, putObjects, s3StoreConfig, writeOldThenFresh } from "../s3/s3-helpers.js";
import { type ConformanceFixture, runStoreConformance } from "./store-conformance.js";

const DAY = 86_400;
const PREFIX = "lethe/";
/** Beside the dataset: outside the prefix, and inside it but not matched by the globs. */
const BYSTANDERS = ["other/users/alice/a1.bin", `${PREFIX}users/README.md`];

const keyOf = (name: string, subject = "none") => `${PREFIX}users/${subject}/${name}.bin`;
const nameOfKey = (key: string) => key.split("/").pop()?.replace(".bin", "") ?? key;

/**
 * S3 objects always get the server's current time as LastModified, so the
 * fixture cannot backdate "expired" items: it writes them first, waits for
 * the next second, writes the fresh ones, and returns a future instant at
 * which exactly the first group is past its retention.
 */
async function s3Fixture(): Promise<ConformanceFixture> {
  const t = await createTestBucket();
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
  const keys = new Map<string, string>();
  return {
    store,
    dataset,
    async seed(items) {
      await putObjects(t.client, t.bucket, BYSTANDERS);
      for (const it of items) keys.set(it.name, keyOf(it.name, it.subject));
      const old = items.filter((i) => i.expired).map((i) => keys.get(i.name) as string);
      const fresh = items.filter((i) => !i.expired).map((i) => keys.get(i.name) as string);
      return writeOldThenFresh(t.client, t.bucket, old, fresh, DAY);
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
      await t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: keys.get(name) }));
    },
    hooks: { foreignKeys: [...BYSTANDERS, "users/alice/a1.bin", `${PREFIX}users/alice/a1.txt`] },
    async close() {
      try {
        for (const k of BYSTANDERS) await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: k }));
      } finally {
        await store.close();
        await t.drop();
      }
    },
  };
}

// createTestBucket throws when LETHE_TEST_S3_ENDPOINT is unset: a missing server fails, never skips.
runStoreConformance("s3 (s3rver)", s3Fixture, { capabilities: ["ownsKey", "subjectOf", "discover"] });

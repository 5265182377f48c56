import { HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DatasetConfig, StoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import type { Issues, StoreDriver } from "../../core/types.js";
import { s3Client } from "./client.js";
import { discoverObjects } from "./discover-objects.js";
import { S3Dataset } from "./s3-dataset.js";
import { isAccessDenied, isClientConfigProblem, isNotFound, safeReason } from "./s3-errors.js";
import { listingMode } from "./versioning.js";

/**
 * The `s3` store: a bucket and an optional key prefix on AWS S3 or any
 * S3-compatible server. Opening it checks the bucket is reachable and reads
 * its versioning status, before anything is deleted.
 *
 * @example
 * const store = await createS3Store({ name: "blobs", kind: "s3", bucket: "inference", prefix: "transient/",
 *   region: undefined, endpoint: "http://127.0.0.1:4569", forcePathStyle: true, versions: true });
 */
export async function createS3Store(config: StoreConfig): Promise<StoreDriver> {
  if (config.kind !== "s3") throw new Error("createS3Store needs an s3 store");
  const client = s3Client(config);
  try {
    await checkBucket(client, config.name, config.bucket, config.endpoint);
    const mode = await listingMode(client, config);
    const ctx = {
      storeName: config.name,
      client,
      bucket: config.bucket,
      prefix: config.prefix,
      lister: mode.lister,
      conditional: { enabled: true },
    };
    let warned = false;
    return {
      config,
      async dataset(ds: DatasetConfig, issues: Issues) {
        if (!warned && mode.warning) issues.warn(`stores.${config.name}.versions`, mode.warning);
        warned = true;
        checkRelativePatterns(ds, config.prefix, issues);
        return new S3Dataset(ds, ctx);
      },
      discover: (req) => discoverObjects(ctx, req),
      async close() {
        client.destroy();
      },
    };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

async function checkBucket(
  client: S3Client,
  store: string,
  bucket: string,
  endpoint: string | undefined,
): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (isClientConfigProblem(err)) {
      const message = err instanceof Error ? err.message : "";
      const why = /region/i.test(message)
        ? ".region: no region configured (set region: in the store, or AWS_REGION)"
        : `: ${safeReason(err)} (credentials come from the AWS SDK default chain: environment, profile, instance role)`;
      throw new LetheError("CONFIG_INVALID", `stores.${store}${why}`, undefined, { cause: err });
    }
    if (isNotFound(err))
      throw new LetheError(
        "CONFIG_INVALID",
        `stores.${store}.bucket: bucket "${bucket}" does not exist${endpoint ? ` at ${endpoint}` : ""}`,
      );
    if (isAccessDenied(err))
      throw new LetheError(
        "CONFIG_INVALID",
        `stores.${store}.bucket: access to bucket "${bucket}" denied (credentials come from the AWS SDK default chain: environment, profile, instance role)`,
      );
    throw new LetheError(
      "STORE_ERROR",
      `stores.${store}: cannot reach bucket "${bucket}"${endpoint ? ` at ${endpoint}` : ""}: ${safeReason(err)}`,
      undefined,
      { cause: err },
    );
  }
}

/** Globs and subject patterns are relative to the prefix; one that repeats the prefix never matches. */
function checkRelativePatterns(ds: DatasetConfig, prefix: string, issues: Issues): void {
  if (!prefix) return;
  const p = `datasets.${ds.name}`;
  const note = `is matched against keys relative to the store prefix "${prefix}"; starting it with the prefix means it never matches`;
  if (ds.subjectFromPath?.startsWith(prefix)) issues.warn(`${p}.subjectFromPath`, note);
  for (const [i, g] of ds.include.entries()) if (g.startsWith(prefix)) issues.warn(`${p}.include.${i}`, note);
}

import { GetBucketVersioningCommand, type S3Client } from "@aws-sdk/client-s3";
import type { S3StoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import { type Lister, plainLister, versionLister } from "./listing.js";
import { errorName, isAccessDenied, isUnsupported, safeReason } from "./s3-errors.js";

export interface ListingMode {
  lister: Lister;
  /** A config warning for `stores.<name>.versions`. */
  warning?: string;
}

/**
 * Chooses how a store lists its keys. With `versions: true` a bucket that
 * has (or had) versioning is listed by version, so deleting a key removes
 * every version and delete marker; a bucket that never had versioning, or a
 * server without it (s3rver), is listed plainly.
 *
 * @example
 * const { lister } = await listingMode(client, storeConfig);
 */
export async function listingMode(client: S3Client, config: S3StoreConfig): Promise<ListingMode> {
  let status: "versioned" | "plain" | "unknown";
  let why = "";
  try {
    const r = await client.send(new GetBucketVersioningCommand({ Bucket: config.bucket }));
    // "Suspended" still has the versions written while it was enabled.
    status = r.Status === "Enabled" || r.Status === "Suspended" ? "versioned" : "plain";
  } catch (err) {
    if (isUnsupported(err)) status = "plain";
    else if (isAccessDenied(err)) {
      status = "unknown";
      why = errorName(err);
    } else
      throw new LetheError(
        "STORE_ERROR",
        `stores.${config.name}: reading the versioning status of bucket "${config.bucket}" failed: ${safeReason(err)}`,
        undefined,
        { cause: err },
      );
  }
  if (config.versions) {
    if (status === "plain") return { lister: plainLister(client, config.bucket) };
    const mode: ListingMode = { lister: versionLister(client, config.bucket) };
    if (status === "unknown")
      mode.warning = `cannot read the versioning status of bucket "${config.bucket}" (${why}); listing object versions so that no version is left behind`;
    return mode;
  }
  const mode: ListingMode = { lister: plainLister(client, config.bucket) };
  if (status === "versioned")
    mode.warning = `bucket "${config.bucket}" is versioned and versions is false: deleted objects stay behind as noncurrent versions (their bytes are not gone)`;
  return mode;
}

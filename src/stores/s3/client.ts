import { S3Client } from "@aws-sdk/client-s3";
import type { S3StoreConfig } from "../../config/types.js";

/**
 * An S3 client for a store: credentials from the SDK's default chain
 * (environment, profile, instance role), `endpoint` and `forcePathStyle`
 * from the config, and region us-east-1 when an endpoint is set without one
 * (S3-compatible servers rarely care, the SDK needs one to sign).
 *
 * @example
 * const client = s3Client({ name: "blobs", kind: "s3", bucket: "b", prefix: "", region: undefined,
 *   endpoint: "http://127.0.0.1:4569", forcePathStyle: true, versions: true });
 */
export function s3Client(config: S3StoreConfig): S3Client {
  const region = config.region ?? (config.endpoint ? "us-east-1" : undefined);
  return new S3Client({
    ...(region ? { region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // A bucket in another region than configured answers with a redirect the SDK can follow.
    followRegionRedirects: true,
  });
}

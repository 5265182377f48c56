import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { S3StoreConfig } from "../../src/config/types.js";

/** An s3 store config for the test server (or a proxy in front of it). */
export function s3StoreConfig(bucket: string, over: Partial<S3StoreConfig> = {}): S3StoreConfig {
  return {
    name: "blobs",
    kind: "s3",
    bucket,
    prefix: "lethe/",
    region: undefined,
    endpoint: process.env.LETHE_TEST_S3_ENDPOINT,
    forcePathStyle: true,
    versions: true,
    ...over,
  };
}

/** Puts small objects, a few at a time. */
export async function putObjects(client: S3Client, bucket: string, keys: string[], concurrency = 24): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `data of ${key}` }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
}

export interface Listed {
  key: string;
  lastModified: Date;
}

/** Every object in the bucket (under `prefix`), read with our own client. */
export async function listAll(client: S3Client, bucket: string, prefix?: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push({ key: o.Key as string, lastModified: o.LastModified as Date });
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * S3 LastModified has whole seconds and objects get the server's time, so
 * tests cannot backdate them. Instead: write the "old" objects, wait until
 * the clock is past their second, write the "fresh" ones, and evaluate
 * expiry at a `now` in the future where exactly the old ones are expired.
 * Returns that instant for a retention of `retentionSeconds`.
 */
export async function writeOldThenFresh(
  client: S3Client,
  bucket: string,
  oldKeys: string[],
  freshKeys: string[],
  retentionSeconds: number,
): Promise<Date> {
  return writeOldThenFreshIn(client, [bucket], oldKeys, freshKeys, retentionSeconds);
}

/**
 * {@link writeOldThenFresh} into several buckets at once, with one wait for the clock's next second between the
 * two groups instead of one per bucket: the same `now` holds for every bucket (their old objects are all at or
 * before the latest old second, their fresh ones after it).
 */
export async function writeOldThenFreshIn(
  client: S3Client,
  buckets: string[],
  oldKeys: string[],
  freshKeys: string[],
  retentionSeconds: number,
): Promise<Date> {
  await Promise.all(buckets.map((b) => putObjects(client, b, oldKeys)));
  let oldMax = Number.NEGATIVE_INFINITY;
  for (const bucket of buckets) {
    const listed = new Map((await listAll(client, bucket)).map((o) => [o.key, o.lastModified.getTime()]));
    for (const k of oldKeys) oldMax = Math.max(oldMax, listed.get(k) ?? Number.NaN);
  }
  if (!Number.isFinite(oldMax)) throw new Error("old objects not listed");
  const wait = oldMax + 1000 + 50 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await Promise.all(buckets.map((b) => putObjects(client, b, freshKeys)));
  for (const bucket of buckets) {
    const after = new Map((await listAll(client, bucket)).map((o) => [o.key, o.lastModified.getTime()]));
    for (const k of freshKeys)
      if ((after.get(k) ?? 0) <= oldMax) throw new Error("fresh object not newer than the old ones");
  }
  return new Date(oldMax + retentionSeconds * 1000);
}

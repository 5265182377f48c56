import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DiscoveredTable, DiscoverRequest } from "../../core/types.js";
import { discoverPaths, type PathEntry } from "../discover-paths.js";
import { plainLister } from "./listing.js";

/** Objects larger than this are not read at all: a model checkpoint is not where an email hides. */
const MAX_OBJECT_BYTES = 8 * 1024 * 1024;

/**
 * `lethe discover` over a bucket prefix: keys (relative to the prefix, as
 * datasets' globs are) grouped and judged like file paths, and the first
 * bytes of up to `sampleSize` small objects read with a ranged GET.
 *
 * @example
 * const groups = await discoverObjects({ client, bucket: "b", prefix: "p/" }, req);
 */
export async function discoverObjects(
  ctx: { client: S3Client; bucket: string; prefix: string },
  req: DiscoverRequest,
): Promise<DiscoveredTable[]> {
  const { client, bucket, prefix } = ctx;
  async function* keys(): AsyncIterable<PathEntry> {
    for await (const page of plainLister(client, bucket).pages(prefix))
      for (const o of page) if (o.key.startsWith(prefix)) yield { rel: o.key.slice(prefix.length), size: o.size };
  }
  return discoverPaths(keys(), {
    ...req,
    kind: "objects",
    async read(e, max) {
      if (e.size > MAX_OBJECT_BYTES) return undefined;
      try {
        const r = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: prefix + e.rel, Range: `bytes=0-${max - 1}` }),
        );
        return r.Body ? Buffer.from(await r.Body.transformToByteArray()) : undefined;
      } catch {
        return undefined; // gone meanwhile, or not readable: judged by its key alone
      }
    },
  });
}

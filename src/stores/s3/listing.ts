import { HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import { compareKeys } from "./key-order.js";
import { foldVersions, type KeyState, type KeyVersion } from "./key-state.js";
import { isNotFound } from "./s3-errors.js";

/**
 * Paginated listing of a bucket range as {@link KeyState} pages, over plain
 * objects (ListObjectsV2) or over every version (ListObjectVersions), so the
 * dataset code is the same for both kinds of bucket.
 */
export interface Lister {
  readonly versioned: boolean;
  /** Pages of keys under `prefix`, in S3 order, strictly after `startAfter`. */
  pages(prefix: string, startAfter?: string): AsyncGenerator<KeyState[]>;
  /** One key's state, or undefined when it holds no data. */
  one(key: string): Promise<KeyState | undefined>;
}

export const PAGE_SIZE = 1000;

export function plainLister(client: S3Client, bucket: string): Lister {
  return {
    versioned: false,
    async *pages(prefix, startAfter) {
      let token: string | undefined;
      do {
        const r = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix || undefined,
            MaxKeys: PAGE_SIZE,
            ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
          }),
        );
        const page: KeyState[] = [];
        for (const o of r.Contents ?? []) {
          if (o.Key === undefined) continue;
          const s: KeyState = { key: o.Key, lastModified: o.LastModified ?? new Date(0), size: o.Size ?? 0 };
          if (o.ETag) s.etag = o.ETag;
          page.push(s);
        }
        yield page;
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    },
    async one(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const s: KeyState = { key, lastModified: r.LastModified ?? new Date(0), size: r.ContentLength ?? 0 };
        if (r.ETag) s.etag = r.ETag;
        return s;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

export interface RawVersion extends KeyVersion {
  key: string;
}

/**
 * Turns ListObjectVersions pages into one KeyState per key. A key's versions
 * may continue on the next page, so the last key of a truncated page is held
 * back until the next page (or the end) shows it is complete.
 */
export class VersionGrouper {
  private pending: { key: string; versions: KeyVersion[] } | undefined;

  add(rows: RawVersion[], truncated: boolean): KeyState[] {
    const page: KeyState[] = [];
    for (const { key, ...version } of rows) {
      if (this.pending && this.pending.key !== key) this.flush(page);
      this.pending ??= { key, versions: [] };
      this.pending.versions.push(version);
    }
    if (!truncated) this.flush(page);
    return page;
  }

  private flush(page: KeyState[]): void {
    const s = this.pending ? foldVersions(this.pending.key, this.pending.versions) : undefined;
    if (s) page.push(s);
    this.pending = undefined;
  }
}

/** One ListObjectVersions page as (key, version) rows in S3 order. */
export function rows(
  versions: { Key?: string; VersionId?: string; LastModified?: Date; Size?: number }[],
  markers: typeof versions,
): RawVersion[] {
  const out: RawVersion[] = [];
  const push = (v: (typeof versions)[number], deleteMarker: boolean) => {
    if (v.Key === undefined) return;
    out.push({
      key: v.Key,
      versionId: v.VersionId ?? "null",
      lastModified: v.LastModified ?? new Date(0),
      size: v.Size ?? 0,
      deleteMarker,
    });
  };
  for (const v of versions) push(v, false);
  for (const m of markers) push(m, true);
  // Versions and markers arrive as two lists; the key order is what matters here.
  return out.sort((a, b) => compareKeys(a.key, b.key));
}

export function versionLister(client: S3Client, bucket: string): Lister {
  async function* pages(prefix: string, startAfter?: string): AsyncGenerator<KeyState[]> {
    let keyMarker = startAfter;
    let versionMarker: string | undefined;
    const grouper = new VersionGrouper();
    for (;;) {
      const r = await client.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix || undefined,
          MaxKeys: PAGE_SIZE,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
        }),
      );
      const page = grouper.add(rows(r.Versions ?? [], r.DeleteMarkers ?? []), r.IsTruncated === true);
      if (page.length > 0 || !r.IsTruncated) yield page;
      if (!r.IsTruncated) return;
      keyMarker = r.NextKeyMarker;
      versionMarker = r.NextVersionIdMarker;
    }
  }
  return {
    versioned: true,
    pages,
    async one(key) {
      // Versions of exactly this key: list its prefix and stop at the first longer key.
      for await (const page of pages(key)) {
        for (const s of page) if (s.key === key) return s;
        if (page.some((s) => compareKeys(s.key, key) > 0)) return undefined;
      }
      return undefined;
    },
  };
}

/**
 * What the driver knows about one object key after listing it: the time its
 * data was last written, its size, and (in versioned buckets) every version
 * and delete marker that must go when the key is deleted.
 */
export interface KeyVersion {
  versionId: string;
  lastModified: Date;
  size: number;
  deleteMarker: boolean;
}

export interface KeyState {
  key: string;
  /** Newest data version's LastModified (plain buckets: the object's). */
  lastModified: Date;
  /** Bytes of data held under the key (all data versions). */
  size: number;
  /** The current object's ETag (plain listing), for conditional deletes. */
  etag?: string;
  /** Every version and delete marker (versioned listing only). */
  versions?: KeyVersion[];
}

/**
 * Folds one key's versions and delete markers into a KeyState, or undefined
 * when only delete markers remain (no data left to expire or erase).
 *
 * @example
 * foldVersions("a.txt", [{ versionId: "v1", lastModified, size: 3, deleteMarker: false }]);
 */
export function foldVersions(key: string, versions: KeyVersion[]): KeyState | undefined {
  let newest: Date | undefined;
  let size = 0;
  for (const v of versions) {
    if (v.deleteMarker) continue;
    size += v.size;
    if (!newest || v.lastModified > newest) newest = v.lastModified;
  }
  return newest ? { key, lastModified: newest, size, versions } : undefined;
}

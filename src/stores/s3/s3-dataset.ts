import type { S3Client } from "@aws-sdk/client-s3";
import picomatch from "picomatch";
import type { DatasetConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import type {
  DatasetCapabilities,
  DatasetDriver,
  DeleteOptions,
  DeleteResult,
  ExpiredSummary,
  Item,
} from "../../core/types.js";
import { type SubjectPattern, subjectPattern } from "../fs/subject-pattern.js";
import { type DeleteTarget, deleteObjects } from "./delete-objects.js";
import type { KeyState } from "./key-state.js";
import type { Lister } from "./listing.js";
import { lookupKeys } from "./lookup.js";
import { safeReason } from "./s3-errors.js";

/** What an S3 dataset shares with its store. */
export interface S3Context {
  storeName: string;
  client: S3Client;
  bucket: string;
  prefix: string;
  lister: Lister;
  /** Retention deletes carry the ETag seen at the re-check, unless the server rejected that. */
  conditional: { enabled: boolean };
}

/**
 * Objects under a bucket prefix, optionally narrowed by globs over keys
 * relative to the prefix; expiry by LastModified. Item keys are full object
 * keys. In versioned buckets (store `versions: true`) deleting a key deletes
 * every version and delete marker it has, so the bytes are really gone.
 */
export class S3Dataset implements DatasetDriver {
  readonly capabilities: DatasetCapabilities;
  private readonly match: (rel: string) => boolean;
  private readonly subjects: SubjectPattern | undefined;

  constructor(
    readonly config: DatasetConfig,
    private readonly ctx: S3Context,
  ) {
    const inc = config.include.length > 0 ? picomatch(config.include, { dot: true }) : () => true;
    const exc = config.exclude.length > 0 ? picomatch(config.exclude, { dot: true }) : () => false;
    this.match = (rel) => inc(rel) && !exc(rel);
    this.subjects = config.subjectFromPath ? subjectPattern(config.subjectFromPath) : undefined;
    this.capabilities = { exactDeletes: true, subjects: this.subjects !== undefined, bytes: true, linkedFiles: false };
  }

  /** The key is under the store prefix and matched by the dataset's globs. */
  owns(key: string): boolean {
    return key.startsWith(this.ctx.prefix) && this.match(key.slice(this.ctx.prefix.length));
  }

  ownsKey(key: Item["key"]): boolean {
    return this.owns(String(key));
  }

  private expiresAt(s: KeyState): number | undefined {
    const r = this.config.retention;
    return r.kind === "duration" ? Math.floor(s.lastModified.getTime() / 1000) + r.seconds : undefined;
  }

  private isExpired(s: KeyState, nowS: number): boolean {
    const exp = this.expiresAt(s);
    return exp !== undefined && exp <= nowS;
  }

  /** Patterns apply to keys relative to the store prefix. */
  subjectOf(key: Item["key"]): string | undefined {
    const k = String(key);
    return k.startsWith(this.ctx.prefix) ? this.subjects?.extract(k.slice(this.ctx.prefix.length)) : undefined;
  }

  private item(s: KeyState): Item {
    const item: Item = { key: s.key, bytes: s.size };
    const exp = this.expiresAt(s);
    if (exp !== undefined) item.expiresAt = exp;
    if (this.subjects) item.subject = this.subjects.extract(s.key.slice(this.ctx.prefix.length)) ?? null;
    return item;
  }

  private storeError(action: string, err: unknown, secret?: string): LetheError {
    if (err instanceof LetheError) return err;
    const where = `s3://${this.ctx.bucket}/${this.ctx.prefix}`;
    return new LetheError(
      "STORE_ERROR",
      `stores.${this.ctx.storeName}: ${action} ${where} failed: ${safeReason(err, secret)}`,
      undefined,
      { cause: err },
    );
  }

  /** Every owned key under `listPrefix`, in S3 order. */
  private async *owned(listPrefix = this.ctx.prefix): AsyncGenerator<KeyState> {
    const secret = listPrefix === this.ctx.prefix ? undefined : listPrefix.slice(this.ctx.prefix.length);
    try {
      for await (const page of this.ctx.lister.pages(listPrefix)) for (const s of page) if (this.owns(s.key)) yield s;
    } catch (err) {
      throw this.storeError("listing", err, secret);
    }
  }

  private async lookup(keys: string[]): Promise<Map<string, KeyState>> {
    try {
      return await lookupKeys(
        this.ctx.lister,
        this.ctx.prefix,
        keys.filter((k) => this.owns(k)),
      );
    } catch (err) {
      throw this.storeError("reading object state under", err, keys.length === 1 ? keys[0] : undefined);
    }
  }

  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this.owned()) n++;
    return n;
  }

  async summarizeExpired(now: Date): Promise<ExpiredSummary> {
    const nowS = now.getTime() / 1000;
    const out: ExpiredSummary = { expired: 0, bytes: 0 };
    const bySubject = new Map<string, number>();
    for await (const s of this.owned()) {
      if (!this.isExpired(s, nowS)) continue;
      const item = this.item(s);
      out.expired++;
      out.bytes = (out.bytes ?? 0) + s.size;
      if (item.subject) bySubject.set(item.subject, (bySubject.get(item.subject) ?? 0) + 1);
    }
    if (this.subjects) out.bySubject = bySubject;
    return out;
  }

  async *scanExpired(now: Date, batchSize: number): AsyncIterable<Item[]> {
    const nowS = now.getTime() / 1000;
    let batch: Item[] = [];
    for await (const s of this.owned()) {
      if (!this.isExpired(s, nowS)) continue;
      batch.push(this.item(s));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async fetchExpired(keys: Item["key"][], now: Date): Promise<Item[]> {
    const nowS = now.getTime() / 1000;
    const states = await this.lookup(keys.map(String));
    const out: Item[] = [];
    for (const key of new Set(keys.map(String))) {
      const s = states.get(key);
      if (s && this.isExpired(s, nowS)) out.push(this.item(s));
    }
    return out;
  }

  async *scanSubject(subject: string, batchSize: number): AsyncIterable<Item[]> {
    const pattern = this.subjects;
    if (!pattern) return;
    let batch: Item[] = [];
    // Only the subject's own prefix is listed when the pattern allows it.
    for await (const s of this.owned(this.ctx.prefix + pattern.prefixFor(subject))) {
      if (pattern.extract(s.key.slice(this.ctx.prefix.length)) !== subject) continue;
      batch.push(this.item(s));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * Deletes the given keys (any keys of this dataset, not only scanned ones).
   * Each key's state is re-read first: keys already gone are neither deleted
   * nor failed and, with `expiredAt`, keys no longer expired are left alone.
   */
  async deleteBatch(items: Item[], opts: DeleteOptions): Promise<DeleteResult> {
    const out: DeleteResult = { deleted: [], failed: [] };
    const byKey = new Map<string, Item>();
    for (const item of items)
      if (this.owns(String(item.key)) && !byKey.has(String(item.key))) byKey.set(String(item.key), item);
    if (byKey.size === 0) return out;
    const states = await this.lookup([...byKey.keys()]);
    const nowS = opts.expiredAt ? opts.expiredAt.getTime() / 1000 : undefined;
    const targets: DeleteTarget[] = [];
    const targeted = new Map<string, KeyState>();
    for (const key of byKey.keys()) {
      const s = states.get(key);
      if (!s) continue; // already gone
      if (nowS !== undefined && !this.isExpired(s, nowS)) continue; // rewritten since: not expired any more
      targets.push({ key, ids: this.identifiers(s, nowS !== undefined) });
      targeted.set(key, s);
    }
    if (targets.length === 0) return out;
    const r = await deleteObjects(this.ctx.client, this.ctx.bucket, targets);
    if (r.conditionalUnsupported) this.ctx.conditional.enabled = false;
    for (const key of r.deleted) out.deleted.push(byKey.get(key) as Item);
    for (const [key, reason] of r.failed) out.failed.push({ item: byKey.get(key) as Item, reason });
    if (r.unsure.size > 0) {
      // The request failed or its answer was incomplete: look at what is really left.
      const after = await this.lookup([...r.unsure.keys()]);
      for (const [key, reason] of r.unsure) {
        const item = byKey.get(key) as Item;
        if (stillThere(targeted.get(key), after.get(key))) out.failed.push({ item, reason });
        else out.deleted.push(item);
      }
    }
    return out;
  }

  private identifiers(s: KeyState, retention: boolean): DeleteTarget["ids"] {
    if (s.versions) return s.versions.map((v) => ({ Key: s.key, VersionId: v.versionId }));
    // Retention: delete only the object that was found expired, not one written since.
    const etag = retention && this.ctx.conditional.enabled ? s.etag : undefined;
    return [etag ? { Key: s.key, ETag: etag } : { Key: s.key }];
  }

  async existing(keys: Item["key"][]): Promise<Set<string>> {
    return new Set((await this.lookup(keys.map(String))).keys());
  }

  async oldestExpiry(now: Date): Promise<number | undefined> {
    const nowS = now.getTime() / 1000;
    let min: number | undefined;
    for await (const s of this.owned()) {
      const exp = this.expiresAt(s);
      if (exp !== undefined && exp <= nowS && (min === undefined || exp < min)) min = exp;
    }
    return min;
  }
}

/** After an unsure delete: does any of the data we meant to delete remain? */
function stillThere(before: KeyState | undefined, after: KeyState | undefined): boolean {
  if (!after) return false;
  if (!before?.versions || !after.versions) return true;
  const remaining = new Set(after.versions.map((v) => v.versionId));
  return before.versions.some((v) => remaining.has(v.versionId));
}

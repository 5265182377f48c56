import type { DatasetConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import type {
  DatasetCapabilities,
  DatasetDriver,
  DeleteOptions,
  DeleteResult,
  ExpiredSummary,
  ExpireResult,
  Item,
} from "../../core/types.js";
import { isServerReply, type RedisClient, redisReason } from "./client.js";
import { type KeyPattern, keyPattern } from "./key-pattern.js";
import { CALL_KEYS, expireKeys, lifetimes, scanKeys, unlinkKeys } from "./scan.js";

const NO_TTL = "no TTL";
const TOO_LONG = "TTL longer than the retention";

/**
 * The keys of one Redis key pattern. Retention here is a limit on lifetimes:
 * an item is "expired" (exceeds the retention) when its key has no TTL or
 * one longer than the retention, whatever the clock says, because Redis
 * keeps no creation time. `expire` (the executor's `action: expire`) sets or
 * lowers such TTLs to the retention; deletes UNLINK. Works alike for every
 * value type (strings, hashes, lists, sets, sorted sets, streams): only key
 * commands are used.
 *
 * @example
 * const ds = new RedisDataset(datasetConfig, client, "cache"); // made by the redis store driver
 * for await (const batch of ds.scanExpired(new Date(), 500)) console.log(batch.length, "keys without a short enough TTL");
 */
export class RedisDataset implements DatasetDriver {
  readonly capabilities: DatasetCapabilities;
  private readonly pattern: KeyPattern;
  /** The retention in ms; undefined for `retention: never` (nothing ever exceeds it). */
  private readonly limitMs: number | undefined;

  constructor(
    readonly config: DatasetConfig,
    private readonly client: RedisClient,
    private readonly storeName: string,
  ) {
    this.pattern = keyPattern(config.pattern ?? "");
    const r = config.retention;
    this.limitMs = r.kind === "duration" ? r.seconds * 1000 : undefined;
    this.capabilities = { exactDeletes: true, subjects: this.pattern.hasSubject, bytes: false, linkedFiles: false };
  }

  ownsKey(key: Item["key"]): boolean {
    return typeof key === "string" && this.pattern.owns(key);
  }

  subjectOf(key: Item["key"]): string | undefined {
    return this.pattern.subjectOf(String(key));
  }

  private fail(action: string, err: unknown): LetheError {
    if (err instanceof LetheError) return err;
    return new LetheError(
      "STORE_ERROR",
      `stores.${this.storeName}: ${action} (dataset ${this.config.name}) failed: ${redisReason(err)}`,
      undefined,
      { cause: err },
    );
  }

  /** Why a key with this remaining lifetime exceeds the retention, or undefined when it does not. */
  private excess(pttl: number): string | undefined {
    if (this.limitMs === undefined || pttl === -2) return undefined;
    if (pttl === -1) return NO_TTL;
    return pttl > this.limitMs ? TOO_LONG : undefined;
  }

  private item(key: string, pttl: number, nowMs: number): Item {
    const item: Item = { key };
    if (this.pattern.hasSubject) item.subject = this.pattern.subjectOf(key) ?? null;
    if (pttl >= 0) item.expiresAt = Math.ceil((nowMs + pttl) / 1000);
    const why = this.excess(pttl);
    if (why) item.reason = why;
    return item;
  }

  /** Pages of owned keys with their lifetimes. */
  private async *pages(match = this.pattern.match): AsyncGenerator<{ key: string; pttl: number }[]> {
    try {
      for await (const keys of scanKeys(this.client, match)) {
        const owned = keys.filter((k) => this.pattern.owns(k));
        if (owned.length === 0) continue;
        const ttls = await lifetimes(this.client, owned);
        yield owned.map((key, i) => ({ key, pttl: ttls[i] ?? -2 })).filter((k) => k.pttl !== -2);
      }
    } catch (err) {
      throw this.fail("scanning keys", err);
    }
  }

  async count(): Promise<number> {
    let n = 0;
    for await (const page of this.pages()) n += page.length;
    return n;
  }

  async summarizeExpired(_now: Date, opts?: { bySubject?: boolean }): Promise<ExpiredSummary> {
    // Insertion order is the order `plan` prints them in.
    const reasons: Record<string, number> = { [NO_TTL]: 0, [TOO_LONG]: 0 };
    const out: ExpiredSummary = { expired: 0 };
    const bySubject = new Map<string, number>();
    for await (const page of this.pages())
      for (const k of page) {
        const why = this.excess(k.pttl);
        if (!why) continue;
        out.expired++;
        reasons[why] = (reasons[why] ?? 0) + 1;
        const s = this.pattern.subjectOf(k.key);
        if (s !== undefined) bySubject.set(s, (bySubject.get(s) ?? 0) + 1);
      }
    if (this.pattern.hasSubject && opts?.bySubject) out.bySubject = bySubject;
    out.reasons = Object.fromEntries(Object.entries(reasons).filter(([, n]) => n > 0));
    return out;
  }

  async *scanExpired(now: Date, batchSize: number): AsyncIterable<Item[]> {
    const nowMs = now.getTime();
    yield* this.batched(batchSize, this.pattern.match, (k) =>
      this.excess(k.pttl) ? this.item(k.key, k.pttl, nowMs) : undefined,
    );
  }

  /** The items `pick` makes of the keys matching `match`, in batches of `batchSize`. */
  private async *batched(
    batchSize: number,
    match: string,
    pick: (k: { key: string; pttl: number }) => Item | undefined,
  ): AsyncIterable<Item[]> {
    let batch: Item[] = [];
    for await (const page of this.pages(match))
      for (const k of page) {
        const item = pick(k);
        if (!item) continue;
        batch.push(item);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    if (batch.length > 0) yield batch;
  }

  private async lookup(keys: Item["key"][]): Promise<{ key: string; pttl: number }[]> {
    const owned = [...new Set(keys.map(String))].filter((k) => this.pattern.owns(k));
    if (owned.length === 0) return [];
    try {
      const ttls = await lifetimes(this.client, owned);
      return owned.map((key, i) => ({ key, pttl: ttls[i] ?? -2 })).filter((k) => k.pttl !== -2);
    } catch (err) {
      throw this.fail("reading key lifetimes", err);
    }
  }

  async fetchExpired(keys: Item["key"][], now: Date): Promise<Item[]> {
    const nowMs = now.getTime();
    return (await this.lookup(keys)).filter((k) => this.excess(k.pttl)).map((k) => this.item(k.key, k.pttl, nowMs));
  }

  /**
   * SCAN MATCH with the subject escaped into the pattern: a subject `*` matches only the literal `*`.
   * Each key carries the subject the pattern reads in it, not the one asked for: should a key ever read
   * as another subject's, that subject's hold is the one the executor checks.
   */
  async *scanSubject(subject: string, batchSize: number): AsyncIterable<Item[]> {
    if (!this.pattern.hasSubject) return;
    const nowMs = Date.now();
    yield* this.batched(batchSize, this.pattern.matchFor(subject), (k) => this.item(k.key, k.pttl, nowMs));
  }

  /**
   * UNLINKs the given keys of this dataset, in calls of at most {@link CALL_KEYS}.
   * With `expiredAt` (retention) a key is removed only if it still exceeds the
   * retention, checked atomically with the removal. A call whose reply is lost
   * leaves its keys `unknown` (the executor asks which still exist).
   */
  async deleteBatch(items: Item[], opts: DeleteOptions): Promise<DeleteResult> {
    const out: DeleteResult = { deleted: [], failed: [] };
    const limit = opts.expiredAt ? this.limitMs : undefined;
    if (opts.expiredAt && limit === undefined) return out; // retention: never
    await this.perCall(items, out, async (chunk) => {
      const r = await unlinkKeys(
        this.client,
        chunk.map((i) => String(i.key)),
        limit,
      );
      chunk.forEach((item, i) => {
        if (r[i] === 1) out.deleted.push(item);
      });
    });
    return out;
  }

  async expire(items: Item[], seconds: number): Promise<ExpireResult> {
    const out: ExpireResult = { expired: [], failed: [] };
    await this.perCall(items, out, async (chunk) => {
      const r = await expireKeys(
        this.client,
        chunk.map((i) => String(i.key)),
        seconds * 1000,
      );
      chunk.forEach((item, i) => {
        const at = r[i] ?? 0;
        if (at > 0) out.expired.push({ ...item, expiresAt: Math.ceil(at / 1000) });
      });
    });
    return out;
  }

  /** Runs `call` on owned, distinct items in chunks; an error reply fails the chunk, a lost one makes it unknown. */
  private async perCall(
    items: Item[],
    out: { failed: DeleteResult["failed"]; unknown?: Item[] },
    call: (chunk: Item[]) => Promise<void>,
  ): Promise<void> {
    const seen = new Set<string>();
    const todo = items.filter((i) => this.ownsKey(i.key) && !seen.has(String(i.key)) && seen.add(String(i.key)));
    for (let i = 0; i < todo.length; i += CALL_KEYS) {
      const chunk = todo.slice(i, i + CALL_KEYS);
      try {
        await call(chunk);
      } catch (err) {
        if (isServerReply(err)) out.failed.push(...chunk.map((item) => ({ item, reason: redisReason(err) })));
        else out.unknown = [...(out.unknown ?? []), ...chunk];
      }
    }
  }

  async existing(keys: Item["key"][]): Promise<Set<string>> {
    return new Set((await this.lookup(keys)).map((k) => k.key));
  }

  /**
   * Redis keeps no creation time, so how long a key has exceeded the
   * retention is unknown: a key that exceeds it now is reported as due now
   * (lag 0), never as older than it can be shown to be.
   */
  async oldestExpiry(now: Date): Promise<number | undefined> {
    for await (const page of this.pages()) if (page.some((k) => this.excess(k.pttl))) return now.getTime() / 1000;
    return undefined;
  }
}

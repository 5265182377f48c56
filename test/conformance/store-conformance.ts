import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";
import { type Capability, capabilityTests, DATASET_CAPABILITIES, STORE_CAPABILITIES } from "./capability-tests.js";

/**
 * One conformance suite every store driver runs (SQLite, PostgreSQL, fs, s3, …).
 * Items are named by logical names ("a1"); each fixture maps them to its
 * native keys (row ids, relative paths, object keys) and reads ground truth
 * without going through the driver.
 *
 * Every optional capability of the driver contract (src/core/types.ts) is
 * exercised here: a driver declares the capabilities it has, the suite checks
 * that the declaration matches what it implements (so nothing implemented goes
 * untested), and registers the capability's tests. A test is only registered
 * for what a driver has; none returns early without checking anything.
 */
export interface SeedItem {
  name: string;
  subject?: string;
  expired: boolean;
}

/** Fixture hooks the capability tests need; each is required by the capability named beside it. */
export interface CapabilityHooks {
  /** ownsKey: keys that cannot name an item of the dataset (outside its root/prefix, unmatched by its globs). */
  foreignKeys?: Item["key"][];
  /** refusedKeys: puts something lethe never deletes (a symlink, a directory) under a matched key; returns the key. */
  plantRefused?(): Promise<Item["key"]>;
  /** scanProblems: makes part of the dataset unreadable to the scan. */
  hideSomething?(): Promise<void>;
  /** filesInUse: sets a linked file path on the named items' rows. */
  linkFile?(names: string[], path: string): Promise<void>;
  /** removeFile: creates a file in the store's root; returns its path as a row would store it. */
  looseFile?(rel: string): Promise<string>;
  /** removeFile: whether a path (as returned by looseFile, or the outside one) exists. */
  exists?(path: string): Promise<boolean>;
  /** removeFile: an existing file outside the store's root, as a row might name it (`../x`, absolute). */
  outsideFile?(): Promise<string>;
  /** purge/scrub: every byte of the store's files, to look for erased values. */
  storeBytes?(): Promise<Buffer>;
}

export interface ConformanceFixture {
  store: StoreDriver;
  dataset: DatasetDriver;
  /** Creates the items; returns the instant at which `expired` items are expired and the others are not. */
  seed(items: SeedItem[]): Promise<Date>;
  /** Logical names of the items that exist now, read without the driver. */
  present(): Promise<string[]>;
  /** Logical name of a driver item. */
  nameOf(item: Item): string;
  /** Deletes an item behind the driver's back. */
  removeBehindBack(name: string): Promise<void>;
  hooks?: CapabilityHooks;
  close(): Promise<void>;
}

export type FixtureFactory = (opts: { subjects: boolean }) => Promise<ConformanceFixture>;

export interface ConformanceOptions {
  /** The items carry subjects (a subject column or subjectFromPath). Default true. */
  subjects?: boolean;
  /** Every optional dataset and store capability the driver implements. */
  capabilities: Capability[];
  /**
   * What "expired" means: `time` (default) — past an instant, so nothing is
   * expired at the epoch; `lifetime` (Redis) — the item's lifetime exceeds
   * the retention whatever the clock says, so those checks use the items
   * themselves instead of an earlier instant.
   */
  expiry?: "time" | "lifetime";
}

export async function collect(it: AsyncIterable<Item[]>): Promise<Item[][]> {
  const out: Item[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

export const ITEMS: SeedItem[] = [
  { name: "a1", subject: "alice", expired: true },
  { name: "a2", subject: "alice", expired: false },
  { name: "a3", subject: "alice", expired: true },
  { name: "b1", subject: "bob", expired: true },
  { name: "b2", subject: "bob", expired: false },
  { name: "c1", subject: "carol", expired: true },
  { name: "c2", subject: "carol", expired: true },
];
const EXPIRED = ITEMS.filter((i) => i.expired)
  .map((i) => i.name)
  .sort();
const FRESH = ITEMS.filter((i) => !i.expired)
  .map((i) => i.name)
  .sort();

/** What the capability tests get: the live fixture and the instant `seed` returned. */
export interface SuiteState {
  fx: ConformanceFixture;
  now: Date;
  names(items: Item[]): string[];
}

export function runStoreConformance(driverName: string, factory: FixtureFactory, opts: ConformanceOptions): void {
  const subjects = opts.subjects ?? true;
  const lifetime = opts.expiry === "lifetime";
  describe(`store conformance: ${driverName}`, () => {
    const s = {} as SuiteState;
    beforeEach(async () => {
      s.fx = await factory({ subjects });
      s.now = await s.fx.seed(ITEMS);
      s.names = (items: Item[]) => items.map((i) => s.fx.nameOf(i)).sort();
    });
    afterEach(async () => {
      await s.fx.close();
    });

    it("implements exactly the optional capabilities it declares", () => {
      const has = (obj: object, m: string) => typeof (obj as Record<string, unknown>)[m] === "function";
      const implemented = [
        ...DATASET_CAPABILITIES.filter((c) => has(s.fx.dataset, c)),
        ...STORE_CAPABILITIES.filter((c) => has(s.fx.store, c)),
      ].sort();
      expect(implemented).toEqual([...opts.capabilities].sort());
      expect(s.fx.dataset.capabilities.subjects).toBe(subjects);
    });

    it("counts every item and exactly the expired ones", async () => {
      expect(await s.fx.dataset.count()).toBe(ITEMS.length);
      const sum = await s.fx.dataset.summarizeExpired(s.now, { bySubject: true });
      expect(sum.expired).toBe(EXPIRED.length);
      if (subjects) expect(Object.fromEntries(sum.bySubject ?? [])).toEqual({ alice: 2, bob: 1, carol: 2 });
    });

    it("scans expired items once each, in batches no larger than asked", async () => {
      const batches = await collect(s.fx.dataset.scanExpired(s.now, 2));
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(2);
      expect(s.names(batches.flat())).toEqual(EXPIRED);
      if (subjects) {
        const bySubject = Object.fromEntries(batches.flat().map((i) => [s.fx.nameOf(i), i.subject]));
        expect(bySubject.a1).toBe("alice");
        expect(bySubject.b1).toBe("bob");
      }
    });

    it("fetchExpired returns only the named items that are still expired", async () => {
      const keys = (await collect(s.fx.dataset.scanExpired(s.now, 100))).flat().map((i) => i.key);
      expect(await s.fx.dataset.fetchExpired(keys.slice(0, 2), s.now)).toHaveLength(2);
      if (lifetime) {
        // Named fresh items do not qualify, nor do items gone since.
        const bob = (await collect(s.fx.dataset.scanSubject("bob", 100))).flat();
        expect(s.names(await s.fx.dataset.fetchExpired([...bob.map((i) => i.key), ...keys], s.now))).toEqual(EXPIRED);
        await s.fx.removeBehindBack("b1");
        expect(s.names(await s.fx.dataset.fetchExpired(keys, s.now))).toEqual(EXPIRED.filter((n) => n !== "b1"));
      } else {
        // A time before anything expired: nothing qualifies.
        expect(await s.fx.dataset.fetchExpired(keys, new Date(0))).toEqual([]);
      }
    });

    it("deletes exactly the expired items, reports them, and is idempotent", async () => {
      const expired = (await collect(s.fx.dataset.scanExpired(s.now, 100))).flat();
      const r = await s.fx.dataset.deleteBatch(expired, { action: "delete", expiredAt: s.now });
      expect(r.failed).toEqual([]);
      expect(s.names(r.deleted)).toEqual(EXPIRED);
      expect((await s.fx.present()).sort()).toEqual(FRESH);
      const again = await s.fx.dataset.deleteBatch(expired, { action: "delete", expiredAt: s.now });
      expect(again).toEqual({ deleted: [], failed: [] });
    });

    it("reports which keys still exist", async () => {
      const all = (await collect(s.fx.dataset.scanExpired(s.now, 100))).flat();
      const a1 = all.find((i) => s.fx.nameOf(i) === "a1") as Item;
      const c1 = all.find((i) => s.fx.nameOf(i) === "c1") as Item;
      await s.fx.removeBehindBack("a1");
      const ex = await s.fx.dataset.existing([a1.key, c1.key]);
      expect(ex.has(String(c1.key))).toBe(true);
      expect(ex.has(String(a1.key))).toBe(false);
      // Gone behind our back: a delete neither deletes nor fails it.
      const r = await s.fx.dataset.deleteBatch([a1], { action: "delete", expiredAt: s.now });
      expect(r).toEqual({ deleted: [], failed: [] });
    });

    it("knows the oldest expiry, and none when nothing is expired", async () => {
      const oldest = await s.fx.dataset.oldestExpiry(s.now);
      expect(oldest).toBeDefined();
      expect(oldest as number).toBeLessThanOrEqual(s.now.getTime() / 1000);
      if (lifetime) {
        const expired = (await collect(s.fx.dataset.scanExpired(s.now, 100))).flat();
        await s.fx.dataset.deleteBatch(expired, { action: "delete" });
        expect(await s.fx.dataset.oldestExpiry(s.now)).toBeUndefined();
      } else expect(await s.fx.dataset.oldestExpiry(new Date(0))).toBeUndefined();
    });

    if (subjects) {
      it("re-checks expiry inside the delete when asked, and not otherwise", async () => {
        const fresh = (await collect(s.fx.dataset.scanSubject("bob", 100)))
          .flat()
          .filter((i) => s.fx.nameOf(i) === "b2");
        expect(fresh).toHaveLength(1);
        const guarded = await s.fx.dataset.deleteBatch(fresh, { action: "delete", expiredAt: s.now });
        expect(guarded.deleted).toEqual([]);
        expect(await s.fx.present()).toContain("b2");
        const erased = await s.fx.dataset.deleteBatch(fresh, { action: "delete" });
        expect(s.names(erased.deleted)).toEqual(["b2"]);
        expect(await s.fx.present()).not.toContain("b2");
      });

      it("finds every item of one subject and no other", async () => {
        expect(s.names((await collect(s.fx.dataset.scanSubject("alice", 1))).flat())).toEqual(["a1", "a2", "a3"]);
        expect((await collect(s.fx.dataset.scanSubject("nobody", 10))).flat()).toEqual([]);
        // A prefix of a subject id is another subject.
        expect((await collect(s.fx.dataset.scanSubject("ali", 10))).flat()).toEqual([]);
      });
    }

    for (const cap of opts.capabilities) capabilityTests[cap](s, { subjects, items: ITEMS, expired: EXPIRED });
  });
}

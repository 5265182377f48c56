import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";

/**
 * One conformance suite every store driver runs (SQLite, PostgreSQL, fs, s3).
 * Items are named by logical names ("a1"); each fixture maps them to its
 * native keys (row ids, relative paths, object keys) and reads ground truth
 * without going through the driver.
 */
export interface SeedItem {
  name: string;
  subject?: string;
  expired: boolean;
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
  close(): Promise<void>;
}

export type FixtureFactory = (opts: { subjects: boolean }) => Promise<ConformanceFixture>;

async function collect(it: AsyncIterable<Item[]>): Promise<Item[][]> {
  const out: Item[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

const ITEMS: SeedItem[] = [
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

export function runStoreConformance(
  driverName: string,
  factory: FixtureFactory,
  opts: { subjects?: boolean } = {},
): void {
  const subjects = opts.subjects ?? true;
  describe(`store conformance: ${driverName}`, () => {
    let fx: ConformanceFixture;
    let now: Date;
    beforeEach(async () => {
      fx = await factory({ subjects });
      now = await fx.seed(ITEMS);
    });
    afterEach(async () => {
      await fx.close();
    });
    const names = (items: Item[]) => items.map((i) => fx.nameOf(i)).sort();

    it("counts every item and exactly the expired ones", async () => {
      expect(await fx.dataset.count()).toBe(ITEMS.length);
      const s = await fx.dataset.summarizeExpired(now, { bySubject: true });
      expect(s.expired).toBe(EXPIRED.length);
      if (subjects && fx.dataset.capabilities.subjects) {
        expect(Object.fromEntries(s.bySubject ?? [])).toEqual({ alice: 2, bob: 1, carol: 2 });
      }
    });

    it("scans expired items once each, in batches no larger than asked", async () => {
      const batches = await collect(fx.dataset.scanExpired(now, 2));
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(2);
      expect(names(batches.flat())).toEqual(EXPIRED);
      if (subjects && fx.dataset.capabilities.subjects) {
        const bySubject = Object.fromEntries(batches.flat().map((i) => [fx.nameOf(i), i.subject]));
        expect(bySubject.a1).toBe("alice");
        expect(bySubject.b1).toBe("bob");
      }
    });

    it("fetchExpired returns only the named items that are still expired", async () => {
      const all = await collect(fx.dataset.scanExpired(now, 100));
      const keys = all.flat().map((i) => i.key);
      const got = await fx.dataset.fetchExpired(keys.slice(0, 2), now);
      expect(got).toHaveLength(2);
      // A time before anything expired: nothing qualifies.
      expect(await fx.dataset.fetchExpired(keys, new Date(0))).toEqual([]);
    });

    it("deletes exactly the expired items, reports them, and is idempotent", async () => {
      const expired = (await collect(fx.dataset.scanExpired(now, 100))).flat();
      const r = await fx.dataset.deleteBatch(expired, { action: "delete", expiredAt: now });
      expect(r.failed).toEqual([]);
      expect(names(r.deleted)).toEqual(EXPIRED);
      expect((await fx.present()).sort()).toEqual(FRESH);
      const again = await fx.dataset.deleteBatch(expired, { action: "delete", expiredAt: now });
      expect(again).toEqual({ deleted: [], failed: [] });
    });

    it("re-checks expiry inside the delete when asked, and not otherwise", async () => {
      if (!(subjects && fx.dataset.capabilities.subjects)) return;
      const fresh = (await collect(fx.dataset.scanSubject("bob", 100))).flat().filter((i) => fx.nameOf(i) === "b2");
      expect(fresh).toHaveLength(1);
      const guarded = await fx.dataset.deleteBatch(fresh, { action: "delete", expiredAt: now });
      expect(guarded.deleted).toEqual([]);
      expect(await fx.present()).toContain("b2");
      const erased = await fx.dataset.deleteBatch(fresh, { action: "delete" });
      expect(names(erased.deleted)).toEqual(["b2"]);
      expect(await fx.present()).not.toContain("b2");
    });

    it("finds every item of one subject and no other", async () => {
      if (!(subjects && fx.dataset.capabilities.subjects)) return;
      expect(names((await collect(fx.dataset.scanSubject("alice", 1))).flat())).toEqual(["a1", "a2", "a3"]);
      expect((await collect(fx.dataset.scanSubject("nobody", 10))).flat()).toEqual([]);
      // A prefix of a subject id is another subject.
      expect((await collect(fx.dataset.scanSubject("ali", 10))).flat()).toEqual([]);
    });

    it("reports which keys still exist", async () => {
      const all = (await collect(fx.dataset.scanExpired(now, 100))).flat();
      const a1 = all.find((i) => fx.nameOf(i) === "a1") as Item;
      const c1 = all.find((i) => fx.nameOf(i) === "c1") as Item;
      await fx.removeBehindBack("a1");
      const ex = await fx.dataset.existing([a1.key, c1.key]);
      expect(ex.has(String(c1.key))).toBe(true);
      expect(ex.has(String(a1.key))).toBe(false);
      // Gone behind our back: a delete neither deletes nor fails it.
      const r = await fx.dataset.deleteBatch([a1], { action: "delete", expiredAt: now });
      expect(r).toEqual({ deleted: [], failed: [] });
    });

    it("knows the oldest expiry, and none when nothing is expired", async () => {
      const oldest = await fx.dataset.oldestExpiry(now);
      expect(oldest).toBeDefined();
      expect(oldest as number).toBeLessThanOrEqual(now.getTime() / 1000);
      expect(await fx.dataset.oldestExpiry(new Date(0))).toBeUndefined();
    });
  });
}

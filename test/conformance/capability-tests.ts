import { expect, it } from "vitest";
import type { Item } from "../../src/core/types.js";
import type { CapabilityHooks, SeedItem, SuiteState } from "./store-conformance.js";

/** Optional dataset methods of the driver contract (src/core/types.ts `DatasetDriver`). */
export const DATASET_CAPABILITIES = [
  "ownsKey",
  "subjectOf",
  "findItems",
  "filesInUse",
  "scanProblems",
  "refusedKeys",
  "list",
  "contents",
  "expiryHistogram",
  "expire",
] as const;

/** Optional store methods of the driver contract (src/core/types.ts `StoreDriver`). */
export const STORE_CAPABILITIES = ["removeFile", "scrub", "purge", "discover"] as const;

export type Capability = (typeof DATASET_CAPABILITIES)[number] | (typeof STORE_CAPABILITIES)[number];

interface Seeded {
  subjects: boolean;
  items: SeedItem[];
  expired: string[];
}

async function all(s: SuiteState): Promise<Item[]> {
  const out: Item[] = [];
  for await (const b of s.fx.dataset.scanSubject("alice", 100)) out.push(...b);
  for await (const b of s.fx.dataset.scanExpired(s.now, 100)) out.push(...b);
  const seen = new Set<string>();
  return out.filter((i) => !seen.has(String(i.key)) && seen.add(String(i.key)));
}

function hook<K extends keyof CapabilityHooks>(s: SuiteState, name: K): NonNullable<CapabilityHooks[K]> {
  const h = s.fx.hooks?.[name];
  if (!h) throw new Error(`the fixture declares a capability that needs hooks.${name}, and has none`);
  return h as NonNullable<CapabilityHooks[K]>;
}

/** One registration function per capability; each registers tests that fail when the capability misbehaves. */
export const capabilityTests: Record<Capability, (s: SuiteState, seeded: Seeded) => void> = {
  ownsKey(s) {
    it("ownsKey: owns every item key it scans, and none of the foreign keys", async () => {
      const own = s.fx.dataset.ownsKey!;
      for (const item of await all(s)) expect(own.call(s.fx.dataset, item.key), String(item.key)).toBe(true);
      for (const key of hook(s, "foreignKeys")) expect(own.call(s.fx.dataset, key), String(key)).toBe(false);
    });
  },

  findItems(s, seeded) {
    it("findItems: names each existing item with the subject the store records; unknown keys are left out", async () => {
      const items = await all(s);
      expect(items.length).toBeGreaterThan(0);
      const found = await s.fx.dataset.findItems!([...items.map((i) => i.key), "no-such-item-zz"]);
      expect(found.map((i) => String(i.key)).sort()).toEqual(items.map((i) => String(i.key)).sort());
      if (seeded.subjects) {
        const bySubject = new Map(seeded.items.map((i) => [i.name, i.subject]));
        for (const item of found) expect(item.subject ?? undefined).toBe(bySubject.get(s.fx.nameOf(item)));
      }
      expect(await s.fx.dataset.findItems!([])).toEqual([]);
    });
  },

  subjectOf(s, seeded) {
    it("subjectOf: names the subject carried in each item's key", async () => {
      const bySubject = new Map(seeded.items.map((i) => [i.name, i.subject]));
      const items = await all(s);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(s.fx.dataset.subjectOf!(item.key)).toBe(bySubject.get(s.fx.nameOf(item)));
    });
  },

  list(s, seeded) {
    it("list: every item once, in batches no larger than asked", async () => {
      const names: string[] = [];
      for await (const b of s.fx.dataset.list!(3)) {
        expect(b.length).toBeLessThanOrEqual(3);
        names.push(...b.map((i) => s.fx.nameOf(i)));
      }
      expect(names.sort()).toEqual(seeded.items.map((i) => i.name).sort());
    });
  },

  contents(s) {
    it("contents: the distinctive text values of exactly the items asked for", async () => {
      const items = await all(s);
      const a1 = items.filter((i) => s.fx.nameOf(i) === "a1");
      const values = await s.fx.dataset.contents!(a1);
      expect(values.some((v) => v.includes("a1"))).toBe(true);
      expect(values.some((v) => v.includes("c1"))).toBe(false);
      expect(await s.fx.dataset.contents!([])).toEqual([]);
    });
  },

  expiryHistogram(s, seeded) {
    it("expiryHistogram: counts the items not yet expired into the day they expire", async () => {
      const days = await s.fx.dataset.expiryHistogram!(s.now, 3);
      expect(days).toHaveLength(3);
      // The fresh items expire within a day of `now`; expired ones are not in the future.
      expect(days.reduce((a, b) => a + b, 0)).toBe(seeded.items.length - seeded.expired.length);
    });
  },

  expire(s, seeded) {
    it("expire: shortens exactly the lifetimes over the retention, never lengthens one, deletes nothing", async () => {
      const r = s.fx.dataset.config.retention;
      if (r.kind !== "duration") throw new Error("the fixture's dataset needs a duration retention");
      const items = await all(s);
      const out = await s.fx.dataset.expire!(items, r.seconds);
      expect(out.failed).toEqual([]);
      // Fresh items (a2: a shorter lifetime already) are left as they are.
      expect(s.names(out.expired)).toEqual(seeded.expired);
      const nowS = Date.now() / 1000;
      for (const i of out.expired) {
        expect(i.expiresAt as number).toBeGreaterThan(nowS + r.seconds - 60);
        expect(i.expiresAt as number).toBeLessThanOrEqual(nowS + r.seconds + 60);
      }
      expect((await s.fx.present()).sort()).toEqual(seeded.items.map((i) => i.name).sort());
      for await (const b of s.fx.dataset.scanExpired(s.now, 100)) expect(s.names(b)).toEqual([]);
      expect((await s.fx.dataset.summarizeExpired(s.now)).expired).toBe(0);
      expect(await s.fx.dataset.expire!(items, r.seconds)).toEqual({ expired: [], failed: [] });
      // Gone keys are neither expired nor failed.
      await s.fx.removeBehindBack("a1");
      expect(await s.fx.dataset.expire!(items, 1)).toMatchObject({ failed: [] });
    });
  },

  filesInUse(s) {
    it("filesInUse: only the paths a row still points at", async () => {
      await hook(s, "linkFile")(["a2", "b2"], "shared/weights.pt");
      await hook(s, "linkFile")(["a1"], "own/a1.pt");
      const used = await s.fx.dataset.filesInUse!(["shared/weights.pt", "own/a1.pt", "nobody/x.pt"]);
      expect([...used].sort()).toEqual(["own/a1.pt", "shared/weights.pt"]);
      await s.fx.removeBehindBack("a1");
      expect([...(await s.fx.dataset.filesInUse!(["own/a1.pt", "shared/weights.pt"]))]).toEqual(["shared/weights.pt"]);
      expect(await s.fx.dataset.filesInUse!([])).toEqual(new Set());
    });
  },

  scanProblems(s) {
    it("scanProblems: an unreadable part of the dataset is reported once, never silently skipped", async () => {
      expect(s.fx.dataset.scanProblems!()).toEqual([]);
      await hook(s, "hideSomething")();
      for await (const _ of s.fx.dataset.scanExpired(s.now, 100)) {
        // drain the scan
      }
      const problems = s.fx.dataset.scanProblems!();
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(p.reason).toMatch(/could not be read/);
      expect(s.fx.dataset.scanProblems!()).toEqual([]); // returned and forgotten
    });
  },

  refusedKeys(s) {
    it("refusedKeys: a present non-file under a matched key is refused; items and missing keys are not", async () => {
      const planted = await hook(s, "plantRefused")();
      const item = (await all(s))[0] as Item;
      const refused = await s.fx.dataset.refusedKeys!([planted, item.key, "users/nobody/zz.bin"]);
      expect([...refused]).toEqual([String(planted)]);
      // And a delete of the planted key neither deletes nor follows it.
      const r = await s.fx.dataset.deleteBatch([{ key: planted }], { action: "delete" });
      expect(r.deleted).toEqual([]);
    });
  },

  removeFile(s) {
    it("removeFile: removes (or shreds) a file inside the root, reports a missing one, leaves outside paths alone", async () => {
      const exists = hook(s, "exists");
      const inside = await hook(s, "looseFile")("linked/x.pt");
      expect(await s.fx.store.removeFile!(inside, "delete")).toMatchObject({ ok: true });
      expect(await exists(inside)).toBe(false);
      expect(await s.fx.store.removeFile!(inside, "delete")).toMatchObject({ ok: true, missing: true });
      const shredMe = await hook(s, "looseFile")("linked/y.pt");
      expect(await s.fx.store.removeFile!(shredMe, "shred")).toMatchObject({ ok: true, shredded: true });
      expect(await exists(shredMe)).toBe(false);
      const outside = await hook(s, "outsideFile")();
      const r = await s.fx.store.removeFile!(outside, "delete");
      expect(r.ok).toBe(false);
      expect(await exists(outside)).toBe(true);
    });
  },

  scrub(s, seeded) {
    it("scrub: after a delete, live rows stay and (where the files can be read) deleted values are gone", async () => {
      const expired = (await all(s)).filter((i) => seeded.expired.includes(s.fx.nameOf(i)));
      await s.fx.dataset.deleteBatch(expired, { action: "delete" });
      await s.fx.store.scrub!();
      expect((await s.fx.present()).sort()).toEqual(["a2", "b2"]); // live rows untouched
      // Engines whose files the fixture can read show that the erased bytes are gone, not just unlinked.
      const bytes = await s.fx.hooks?.storeBytes?.();
      if (bytes) {
        expect(bytes.includes("payload-c2")).toBe(false);
        expect(bytes.includes("payload-a2")).toBe(true);
      }
    });
  },

  purge(s) {
    it("purge: reports the search of the store's files and leaves no erased value behind", async () => {
      const alice = (await all(s)).filter((i) => i.subject === "alice" || s.fx.nameOf(i).startsWith("a"));
      await s.fx.dataset.deleteBatch(alice, { action: "delete" });
      const report = await s.fx.store.purge!(["payload-a1", "payload-a2"], "verify");
      expect(report).toMatchObject({ mode: "verify", complete: true });
      expect(report.scannedBytes).toBeGreaterThan(0);
      expect((await hook(s, "storeBytes")()).includes("payload-a1")).toBe(false);
    });
  },

  discover(s) {
    const req = (sampleSize: number) => ({ sampleSize, datasets: [s.fx.dataset.config], mask: (t: string) => t });
    async function tableStore() {
      const tables = await s.fx.store.discover!(req(10));
      const t = tables.find(
        (x) => x.table === s.fx.dataset.config.table || x.aliases.includes(String(s.fx.dataset.config.table)),
      );
      expect(t).toBeDefined();
      expect(t!.columns.map((c) => c.name)).toEqual(expect.arrayContaining(["id", "user_id", "created_at"]));
      expect(t!.columns.find((c) => c.name === "user_id")!.samples).toEqual(expect.arrayContaining(["alice"]));
      expect((await s.fx.store.discover!(req(0))).find((x) => x === t)).toBeUndefined();
    }
    async function pathStore() {
      const groups = await s.fx.store.discover!(req(10));
      expect(groups.map((g) => g.table).some((n) => n.includes("alice") || n.includes("bob"))).toBe(false);
      for (const g of groups) expect(["files", "objects", "keys"]).toContain(g.kind);
      for (const g of groups)
        for (const c of g.columns) expect(c.samples.some((v) => v.includes("alice/"))).toBe(false);
    }
    it("discover: a table store lists the dataset's table with columns and samples; a path store reports none of the items its dataset finds by subject, under masked names", async () => {
      if (s.fx.dataset.config.table) await tableStore();
      else await pathStore();
    });
  },
};

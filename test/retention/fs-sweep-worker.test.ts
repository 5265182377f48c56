import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DatasetDriver, Item, StoreDriver } from "../../src/core/types.js";
import { createFsStore } from "../../src/stores/fs/driver.js";
import { WORKER_MIN_ITEMS } from "../../src/stores/fs/fs-dataset.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { relativeFilesUnder } from "../helpers/files.js";

// Large fs batches are removed in the store's sweep worker (src/stores/fs/sweeper.ts) while the main thread reads
// the next batch. The same guarantees hold there as on the main thread: nothing reached through a link, every
// file re-checked (still a regular file, still expired) right before its name goes.
const DAY = 86_400;
const N = 2 * WORKER_MIN_ITEMS; // 3/4 of them expired: over the threshold, these batches go through the worker
const OLD = new Date(Date.now() - 3 * DAY * 1000);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function fixture(files: number, perDir = files) {
  const dir = mkdtempSync(join(tmpdir(), "lethe-sweep-"));
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  for (let i = 0; i < files; i++) {
    const sub = join(root, "runs", `r${Math.floor(i / perDir)}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.pt`), `in root ${i}`);
    // Every fourth file is fresh; the rest are past the one-day retention.
    if (i % 4 !== 0) utimesSync(join(sub, `f${i}.pt`), OLD, OLD);
  }
  const store: StoreDriver = await createFsStore({ name: "files", kind: "fs", root });
  const config = datasetConfig({
    name: "ckpt",
    store: "files",
    storeKind: "fs",
    include: ["runs/**/*.pt"],
    retention: { kind: "duration", seconds: DAY },
  });
  const ds = (await store.dataset(config, collectIssues())) as DatasetDriver;
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, root, outside, ds };
}

async function scanAll(ds: DatasetDriver, now: Date, batchSize: number): Promise<Item[][]> {
  const out: Item[][] = [];
  for await (const b of ds.scanExpired(now, batchSize)) out.push(b);
  return out;
}

describe("fs sweep in a worker thread", () => {
  it("removes a large batch off the event loop, exactly the expired files", async () => {
    const f = await fixture(N);
    const now = new Date();
    const [batch] = await scanAll(f.ds, now, 10_000);
    expect(batch?.length).toBe(N - Math.ceil(N / 4));
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const r = await f.ds.deleteBatch(batch as Item[], { action: "delete", expiredAt: now });
    // On the main thread the whole batch would run before the event loop could turn once.
    expect(turned).toBe(true);
    expect(r.failed).toEqual([]);
    expect(r.deleted.map((i) => i.key).sort()).toEqual((batch as Item[]).map((i) => i.key).sort());
    expect(relativeFilesUnder(f.root).length).toBe(Math.ceil(N / 4));
  });

  it("reads the next batch while one is being removed, and yields every expired file once", async () => {
    const f = await fixture(4 * N, 500);
    const now = new Date();
    const seen: string[] = [];
    let deleted = 0;
    for await (const b of f.ds.scanExpired(now, N)) {
      seen.push(...b.map((i) => String(i.key)));
      deleted += (await f.ds.deleteBatch(b, { action: "delete", expiredAt: now })).deleted.length;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(3 * N);
    expect(deleted).toBe(3 * N);
    expect(relativeFilesUnder(f.root).length).toBe(N);
  });

  it("never follows a directory swapped for a link between the scan and the delete", async () => {
    const f = await fixture(N);
    const now = new Date();
    const [batch] = await scanAll(f.ds, now, 10_000);
    // A hostile user moves the directory away and links its name to a folder of theirs holding the same names.
    const real = join(f.root, "runs", "r0");
    renameSync(real, `${real}.moved`);
    mkdirSync(f.outside, { recursive: true });
    for (let i = 0; i < N; i++) {
      writeFileSync(join(f.outside, `f${i}.pt`), "precious");
      utimesSync(join(f.outside, `f${i}.pt`), OLD, OLD);
    }
    symlinkSync(f.outside, real);
    for (const action of ["delete", "shred"] as const) {
      const r = await f.ds.deleteBatch(batch as Item[], { action, expiredAt: now });
      expect(r.deleted).toEqual([]);
      expect(r.failed.length).toBe(batch?.length);
      expect(new Set(r.failed.map((x) => x.reason.split(":")[0]))).toEqual(new Set(["PATH_CHANGED"]));
    }
    for (let i = 0; i < N; i++) expect(readFileSync(join(f.outside, `f${i}.pt`), "utf8")).toBe("precious");
    expect(relativeFilesUnder(`${real}.moved`).length).toBe(N);
  });

  it("re-checks each file right before removing it: modified, swapped for a link, or replaced", async () => {
    const f = await fixture(N);
    const now = new Date();
    const [batch] = await scanAll(f.ds, now, 10_000);
    const items = batch as Item[];
    const path = (i: Item) => join(f.root, String(i.key));
    const [touched, linked, gone] = items.slice(0, 3) as [Item, Item, Item];
    writeFileSync(path(touched), "written since the scan: no longer expired");
    mkdirSync(f.outside, { recursive: true });
    writeFileSync(join(f.outside, "victim.pt"), "precious");
    unlinkSync(path(linked));
    symlinkSync(join(f.outside, "victim.pt"), path(linked));
    unlinkSync(path(gone));
    const r = await f.ds.deleteBatch(items, { action: "delete", expiredAt: now });
    expect(r.deleted.length).toBe(items.length - 3);
    expect(r.failed.map((x) => [x.item.key, x.reason.split(":")[0]])).toEqual([[linked.key, "NOT_A_FILE"]]);
    expect(readFileSync(path(touched), "utf8")).toMatch(/written since/);
    expect(readFileSync(join(f.outside, "victim.pt"), "utf8")).toBe("precious");
    expect(existsSync(path(linked))).toBe(true);
  });
});

import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { PurgeReport } from "../../src/core/types.js";
import { openLethe } from "../../src/lethe.js";
import { ScrubBatcher } from "../../src/stores/sql/scrub-batcher.js";
import type { SearchHits } from "../../src/stores/sql/sqlite-scan.js";
import { searchInWorker } from "../../src/stores/sql/sqlite-scan-in-worker.js";
import { tempDir } from "../helpers/cli.js";
import { CANARY, filesContaining, sqliteFixture } from "./fixture.js";

// These run the compiled worker (dist/): `npm run build` first.

/** A WAL-mode file whose app connection (no secure_delete) leaves deleted rows' bytes in free page space. */
function appFile(): { path: string; app: Database.Database; leave(...values: string[]): void } {
  const path = join(tempDir(), "app.db");
  const app = new Database(path);
  app.pragma("journal_mode = WAL");
  app.pragma("secure_delete = OFF");
  app.exec("create table t (id integer primary key, v text)");
  const ins = app.prepare("insert into t (v) values (?)");
  for (let i = 0; i < 50; i++) ins.run(`keep-row-${i}-lorem-ipsum-dolor`);
  return {
    path,
    app,
    leave(...values) {
      // All inserted before any is deleted: a later insert would reuse the freed space.
      const ids = values.map((v) => ins.run(v).lastInsertRowid);
      for (const id of ids) app.prepare("delete from t where id = ?").run(id);
      app.pragma("wal_checkpoint(TRUNCATE)");
    },
  };
}

function batcherOn(path: string, search?: (p: string, n: string[]) => Promise<SearchHits>) {
  const raw = new Database(path);
  raw.pragma("secure_delete = ON");
  raw.pragma("busy_timeout = 10000");
  const batcher = new ScrubBatcher({ store: "appdb", path, raw, exclusive: async (fn) => fn(), search });
  return { raw, batcher };
}

const inFile = (path: string, value: string) => readFileSync(path).includes(value);

describe("the verify scrub's search", () => {
  it("runs in a worker: the event loop keeps turning while a file that takes a synchronous pass long is searched", async () => {
    const { path, app } = appFile();
    app.close();
    // 256 MB past the database's last page (not live): a synchronous pass over it blocks for hundreds of ms.
    const filler = Buffer.alloc(16 << 20, "lorem ipsum dolor sit amet ");
    for (let i = 0; i < 16; i++) appendFileSync(path, filler);
    appendFileSync(path, "needle-in-the-filler-0042");
    try {
      const delay = monitorEventLoopDelay({ resolution: 10 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      delay.enable();
      const r = await searchInWorker(path, ["needle-in-the-filler-0042"]);
      delay.disable();
      clearInterval(timer);
      expect(r.hits["needle-in-the-filler-0042"]).toEqual({ found: 1, live: 0 });
      expect(r.scannedBytes).toBeGreaterThan(256 << 20);
      expect(ticks).toBeGreaterThan(0); // a synchronous search lets no timer run before it returns
      expect(delay.max / 1e6).toBeLessThan(200);
    } finally {
      rmSync(path, { force: true });
    }
  });
});

describe("ScrubBatcher", () => {
  it("serves erasures that meet within the window with one pass, each with its own counts, one VACUUM", async () => {
    const f = appFile();
    f.leave("ALPHA-erased-prompt-0001", "BRAVO-erased-prompt-0002");
    const { raw, batcher } = batcherOn(f.path);
    try {
      const [a, b, c] = await Promise.all([
        batcher.purge(["ALPHA-erased-prompt-0001"], "verify", 5),
        batcher.purge(["BRAVO-erased-prompt-0002", "keep-row-7-lorem-ipsum-dolor"], "verify", 5),
        batcher.purge(["CHARLIE-never-written-03"], "verify", 5),
      ]);
      expect(batcher.passes).toBe(1);
      expect(a).toMatchObject({ found: 1, vacuumed: true, complete: true, shared: 3 });
      expect(a?.liveMatches).toBeUndefined();
      expect(b).toMatchObject({ found: 1, liveMatches: 1, vacuumed: true, shared: 3 });
      expect(c).toMatchObject({ found: 0, vacuumed: true, shared: 3 });
      expect(a?.scannedBytes).toBeGreaterThan(0);
      expect(inFile(f.path, "ALPHA-erased-prompt-0001") || inFile(f.path, "BRAVO-erased-prompt-0002")).toBe(false);
      expect(inFile(f.path, "keep-row-7-lorem-ipsum-dolor")).toBe(true);
    } finally {
      raw.close();
      f.app.close();
    }
  });

  it("gives an erasure that arrives while a search runs a later pass, which sees what its delete left", async () => {
    const f = appFile();
    let started: () => void = () => undefined;
    const firstStarted = new Promise<void>((r) => {
      started = r;
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { raw, batcher } = batcherOn(f.path, async (p, n) => {
      started();
      await gate;
      return searchInWorker(p, n);
    });
    try {
      const first = batcher.purge(["ALPHA-nothing-left-here-1"], "verify", 0);
      await firstStarted;
      // The second erasure's delete commits after the first pass checkpointed and began its search.
      f.leave("BRAVO-left-after-start-2");
      const second = batcher.purge(["BRAVO-left-after-start-2"], "verify", 0);
      release();
      const [a, b] = (await Promise.all([first, second])) as PurgeReport[];
      expect(batcher.passes).toBe(2);
      expect(a).toMatchObject({ found: 0, vacuumed: false, complete: true });
      expect(a?.shared).toBeUndefined();
      expect(b).toMatchObject({ found: 1, vacuumed: true, complete: true });
      expect(inFile(f.path, "BRAVO-left-after-start-2")).toBe(false);
    } finally {
      raw.close();
      f.app.close();
    }
  });
});

describe("concurrent lethe.erase calls in one process", () => {
  it("share one scrub of the SQLite file, each with its own verified report, and leave no erased prompt", async () => {
    const victim = "victim-8f2c41";
    // A window far longer than the erasures take, so all four surely meet in it.
    const everyone = [...Array.from({ length: 12 }, (_, i) => `user-${i}`), victim]; // enough rows for page splits
    const f = sqliteFixture(everyone, 5, victim, "erasure: { scrubWindow: 3s }\n");
    const lethe = await openLethe(join(f.dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    try {
      expect(filesContaining([f.target, `${f.target}-wal`], CANARY).length).toBeGreaterThan(0);
      const rs = await Promise.all(["user-1", "user-2", "user-3", victim].map((s) => lethe.erase(s, { yes: true })));
      for (const r of rs) {
        expect(r.residue + r.failed).toBe(0);
        expect(r.scrub).toEqual([
          expect.objectContaining({ store: "appdb", mode: "verify", shared: 4, complete: true }),
        ]);
      }
      expect(filesContaining([f.target, `${f.target}-wal`], CANARY)).toEqual([]);
      expect(rs[3]?.scrub?.[0]).toMatchObject({ vacuumed: true });
      expect(rs[3]?.scrub?.[0]?.found).toBeGreaterThan(0);
    } finally {
      await lethe.close();
      f.app?.close();
    }
  });
});

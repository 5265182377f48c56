import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { LetheError } from "../../src/core/errors.js";
import { openLethe } from "../../src/lethe.js";
import { ScrubBatcher } from "../../src/stores/sql/scrub-batcher.js";
import { isPatternTooLarge, searchInWorker } from "../../src/stores/sql/sqlite-scan-in-worker.js";
import { filesContaining, sqliteFixture } from "./fixture.js";

// The search runs in the compiled worker (dist/): `npm run build` first.

/** A prompt of `n` characters that no other row shares, with a marker every 1,000 characters. */
function longPrompt(tag: string, n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++)
    s += `${tag}-${String(i).padStart(6, "0")} ${"lorem ipsum dolor sit amet ".repeat(36)}`;
  return s.slice(0, n);
}

describe("the verify scrub with long erased values", () => {
  it("a 70,000-character prompt (and 66 KB of CJK) is erased and the file rewritten, not a failed search", async () => {
    const victim = "victim-long-prompt-7731";
    const everyone = [...Array.from({ length: 8 }, (_, i) => `user-${i}`), victim];
    const f = sqliteFixture(everyone, 3, victim);
    const latin = longPrompt("LONGPROMPT-zq1", 70_000);
    const cjk = "患者记录机密".repeat(3_700); // 22,200 characters, 66.6 KB as UTF-8
    const app = f.app;
    if (!app) throw new Error("fixture without an app connection");
    // The app stores them the way an app does (no secure_delete): an update leaves the old version in free pages.
    app.pragma("secure_delete = OFF");
    app
      .prepare(
        "update inference_logs set prompt_text = ? where user_id = ? and id = (select min(id) from inference_logs where user_id = ?)",
      )
      .run(latin, victim, victim);
    app.prepare("update inference_logs set response_text = ? where user_id = ?").run(cjk, victim);
    app
      .prepare("update inference_logs set prompt_text = ? where user_id = ? and prompt_text = ?")
      .run(`${latin}!`, victim, latin);
    app.pragma("wal_checkpoint(TRUNCATE)");
    const fragment = latin.slice(35_000, 35_200);
    expect(filesContaining([f.target], fragment).length).toBeGreaterThan(0);
    const lethe = await openLethe(join(f.dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    try {
      const [a, b] = await Promise.all([lethe.erase(victim, { yes: true }), lethe.erase("user-3", { yes: true })]);
      for (const r of [a, b]) {
        expect(r?.residue).toBe(0);
        expect(r?.scrub?.[0]).toMatchObject({ store: "appdb", mode: "verify", vacuumed: true, complete: true });
      }
      expect(filesContaining([f.target, `${f.target}-wal`], fragment)).toEqual([]);
      expect(filesContaining([f.target, `${f.target}-wal`], cjk.slice(1000, 1060))).toEqual([]);
    } finally {
      await lethe.close();
      app.close();
    }
  });

  it("a search the regex engine refuses (PATTERN_TOO_LARGE from the worker) falls back to a rewrite", async () => {
    const f = sqliteFixture(["user-a-000000", "user-b-000000"], 2);
    f.app?.close();
    const raw = new Database(f.target);
    const batcher = new ScrubBatcher({
      store: "appdb",
      path: f.target,
      raw,
      exclusive: async (fn) => fn(),
      // The real worker's refusal, for a value the batcher itself would never send it (it is longer than 1 KiB).
      search: (path) => searchInWorker(path, ["x".repeat(70_000)]),
    });
    try {
      expect(await batcher.purge(["a value of some length"], "verify")).toMatchObject({
        vacuumed: true,
        complete: true,
      });
      await expect(batcher.purge(["a value of some length"], "verify").then(() => "ok")).resolves.toBe("ok");
    } finally {
      raw.close();
    }
  });

  it("the worker refuses one ~70 KB value with the code PATTERN_TOO_LARGE, not a message to parse", async () => {
    // V8 refuses to compile a regex for some long literals (this one: 70,000 times the same byte), whatever the total.
    const f = sqliteFixture(["user-a-000000"], 1);
    f.app?.close();
    const err = await searchInWorker(f.target, ["x".repeat(70_000)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LetheError);
    expect(err).toMatchObject({ code: "STORE_ERROR", details: { searchError: "PATTERN_TOO_LARGE" } });
    expect(isPatternTooLarge(err)).toBe(true);
    // The erased value never reaches the message.
    expect((err as Error).message).not.toContain("xxxx");
    // Another failure (the file is gone) is not taken for a refused pattern.
    const gone = await searchInWorker(join(f.dir, "missing", "app.db"), ["abc"]).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(LetheError);
    expect(isPatternTooLarge(gone)).toBe(false);
  });
});

describe("which erased values the scrub searches for (the 1 KiB rule)", () => {
  // A value longer than a page's worth can lie in pieces across overflow pages: a whole-value search could miss it.
  it.each([
    { what: "1,024 ASCII bytes", value: "k".repeat(1024), searched: true },
    { what: "1,025 ASCII bytes", value: "k".repeat(1025), searched: false },
    { what: "512 two-byte characters (1,024 bytes)", value: "é".repeat(512), searched: true },
    { what: "513 characters but 1,025 bytes", value: `${"é".repeat(512)}k`, searched: false },
  ])("$what: searched $searched", async ({ value, searched }) => {
    const f = sqliteFixture(["user-a-000000"], 1);
    f.app?.close();
    const raw = new Database(f.target);
    const calls: string[][] = [];
    const batcher = new ScrubBatcher({
      store: "appdb",
      path: f.target,
      raw,
      exclusive: async (fn) => fn(),
      search: async (_path, needles) => {
        calls.push(needles);
        return { scannedBytes: 1, hits: {} };
      },
    });
    try {
      const report = await batcher.purge([value], "verify");
      if (searched) {
        expect(calls).toEqual([[Buffer.from(value, "utf8").toString("latin1")]]);
        expect(report).toMatchObject({ vacuumed: false, complete: true, found: 0 });
      } else {
        expect(calls).toEqual([]);
        expect(report).toMatchObject({ vacuumed: true, complete: true });
      }
    } finally {
      raw.close();
    }
  });
});

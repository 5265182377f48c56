import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { LetheError } from "../../src/core/errors.js";
import { openLethe } from "../../src/lethe.js";
import { ScrubBatcher } from "../../src/stores/sql/scrub-batcher.js";
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
      search: async () => {
        throw new LetheError("STORE_ERROR", "the scrub search failed: PATTERN_TOO_LARGE");
      },
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
});

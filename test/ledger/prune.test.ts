import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it, type TestContext } from "vitest";
import { verifyInclusion } from "../../src/ledger/proof.js";
import type { Lethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { until } from "../helpers/wait.js";
import { ledgerProject } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
/**
 * An instant strictly after every entry appended so far and strictly before any appended later (ledger
 * times have millisecond resolution): polled on the clock, never a fixed sleep.
 */
async function instantBetween(): Promise<Date> {
  const last = Date.now();
  const cut = await until(async () => Date.now() > last && new Date(), 5_000, 1);
  await until(async () => Date.now() > cut.getTime(), 5_000, 1);
  return cut;
}

async function project(ctx: TestContext, kind: "sqlite" | "postgres") {
  let state = "./.lethe";
  let url: string | undefined;
  if (kind === "postgres") {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    state = db.url;
    url = db.url;
  }
  return { ...ledgerProject(state, (c) => cleanups.push(c)), url };
}

/**
 * `n` entries now; returns the seq of the last one. `held` stays one entry per item (ledger v2 folds
 * deletions into one batch entry per append), so `n` items are `n` entries.
 */
async function entries(l: Lethe, n: number, from: number): Promise<number> {
  const r = await l.ledger.append(
    Array.from({ length: n }, (_, i) => ({
      action: "held" as const,
      dataset: "logs",
      key: from + i,
      subject: `u${i % 7}`,
    })),
  );
  return r.last;
}

describe.each(["sqlite", "postgres"] as const)("ledger pruning on %s state", (kind) => {
  it("keeps a signed anchor: the rest verifies, proofs and later checkpoints still check, older ones are refused", async (ctx) => {
    const p = await project(ctx, kind);
    const l = await p.open();
    await entries(l, 20, 1);
    const early = await l.audit.checkpoint(); // covers only entries that will be pruned
    // A batch entry of deleted items (ledger v2) is pruned with its item rows.
    await l.ledger.append(
      Array.from({ length: 10 }, (_, i) => ({
        action: "deleted" as const,
        dataset: "logs",
        key: 700 + i,
        subject: "u1",
      })),
    );
    const old = await entries(l, 17, 21);
    const cut = await instantBetween();
    await entries(l, 20, 100);
    const late = await l.audit.checkpoint();

    const dry = await l.audit.prune({ before: cut });
    expect(dry).toMatchObject({ dryRun: true, pruned: old + 0 });
    expect(await l.ledger.size()).toBe(late.size);
    expect((await l.audit.log({ dataset: "logs", key: "1" })).length).toBe(1);
    expect(await l.audit.log({ dataset: "logs", key: "705" })).toMatchObject([{ seq: 21, item: 5 }]);

    const done = await l.audit.prune({ before: cut, yes: true });
    expect(done).toMatchObject({ dryRun: false, pruned: old, anchor: { size: old } });
    expect(await l.audit.log({ dataset: "logs", key: "1" })).toEqual([]); // gone
    expect(await l.audit.log({ dataset: "logs", key: "705" })).toEqual([]); // the batch's items too
    const v = await l.audit.verify();
    expect(v).toMatchObject({ ok: true, anchor: { size: old } });
    expect(v.entries).toBeGreaterThan(late.size); // + the ledger_pruned entry
    expect((await l.audit.verify({ checkpoint: late })).ok).toBe(true);
    const refused = await l.audit.verify({ checkpoint: early });
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/predates the prune anchor/);

    // Inclusion proofs after the prune point still verify offline; pruned entries have none.
    const proof = await l.audit.prove(old + 5);
    expect(verifyInclusion(l.audit.publicKey(), proof)).toBe(true);
    await expect(l.audit.prove(3)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // Appends go on, a second prune builds on the first anchor.
    const cut2 = await instantBetween();
    await entries(l, 5, 500);
    const second = await l.audit.prune({ before: cut2, yes: true });
    expect(second.anchor?.size).toBeGreaterThan(old);
    expect(await l.audit.verify()).toMatchObject({ ok: true });
    const pr = await l.audit.prove((await l.ledger.size()) - 1);
    expect(verifyInclusion(l.audit.publicKey(), pr)).toBe(true);
    const pruned = (await l.audit.log({})).filter((e) => e.action === "ledger_pruned");
    expect(pruned).toHaveLength(1); // the first prune's own entry was before cut2: pruned by the second
    expect(pruned[0]?.data).toMatchObject({ size: second.anchor?.size });

    // The append-only guard is back.
    if (kind === "sqlite") {
      const raw = new Database(join(p.dir, ".lethe", "state.db"));
      expect(() => raw.prepare("delete from ledger").run()).toThrow(/append-only/);
      raw.close();
    } else {
      const c = new pg.Client({ connectionString: p.url });
      await c.connect();
      await expect(c.query("delete from lethe.ledger")).rejects.toThrow(/append-only/);
      await expect(c.query("delete from lethe.checkpoints")).rejects.toThrow(/append-only/);
      await expect(c.query("delete from lethe.ledger_anchors")).rejects.toThrow(/append-only/);
      await c.end();
    }
  });
});

describe("ledger pruning: tampering and refusals (SQLite state)", () => {
  async function pruned(ctx: TestContext) {
    const p = await project(ctx, "sqlite");
    const l = await p.open();
    await entries(l, 30, 1);
    const cut = await instantBetween();
    await entries(l, 10, 100);
    const r = await l.audit.prune({ before: cut, yes: true });
    await l.close();
    cleanups.pop();
    const raw = () => {
      const db = new Database(join(p.dir, ".lethe", "state.db"));
      db.exec(
        "drop trigger ledger_no_update; drop trigger ledger_no_delete; drop trigger ledger_anchors_no_update; drop trigger ledger_anchors_no_delete;",
      );
      return db;
    };
    const verify = () => letheIn(["audit", "verify", "--json"], p.dir);
    return { p, size: r.anchor?.size as number, raw, verify };
  }

  it("a removed, altered or forged anchor, or a gap after it, fails verification (exit 4)", async (ctx) => {
    let t = await pruned(ctx);
    expect((await t.verify()).code).toBe(0);
    let db = t.raw();
    db.prepare("delete from ledger_anchors").run();
    db.close();
    expect(await t.verify()).toMatchObject({ code: 4, json: { ok: false, reason: expect.stringMatching(/missing/) } });

    t = await pruned(ctx);
    db = t.raw();
    db.prepare("update ledger_anchors set root = ?").run("ab".repeat(32));
    db.close();
    expect(await t.verify()).toMatchObject({
      code: 4,
      json: { reason: expect.stringMatching(/anchor has an invalid signature/) },
    });

    t = await pruned(ctx);
    db = t.raw();
    db.prepare("delete from ledger where seq = ?").run(t.size + 1);
    db.close();
    expect(await t.verify()).toMatchObject({ code: 4, json: { firstBad: t.size + 1 } });
  });

  it("a failing --full pass on a pruned ledger says it was full", async (ctx) => {
    for (const tamper of ["update ledger set reason = 'x' where seq = ?", "delete from ledger_anchors where ? > 0"]) {
      const t = await pruned(ctx);
      const db = t.raw();
      db.prepare(tamper).run(t.size + 3);
      db.close();
      const r = await letheIn(["audit", "verify", "--full", "--json"], t.p.dir);
      expect(r).toMatchObject({ code: 4, json: { ok: false, full: true } });
    }
  });

  it("refuses to prune a ledger that does not verify, and a date in the future; the CLI dry-runs without --yes", async (ctx) => {
    const p = await project(ctx, "sqlite");
    const l = await p.open();
    await entries(l, 10, 1);
    await l.close();
    cleanups.pop();
    const dry = await letheIn(["audit", "prune", "--before", new Date().toISOString(), "--json"], p.dir);
    expect(dry).toMatchObject({ code: 0, json: { dryRun: true, pruned: 10 } });
    expect((await letheIn(["audit", "prune", "--before", "2999-01-01", "--yes"], p.dir)).code).toBe(2);
    expect((await letheIn(["audit", "prune", "--before", "soon", "--yes"], p.dir)).code).toBe(2);
    expect((await letheIn(["audit", "prune", "--before", "1", "--yes"], p.dir)).code).toBe(2); // not read as 2001-01-01
    const db = new Database(join(p.dir, ".lethe", "state.db"));
    db.exec("drop trigger ledger_no_update");
    db.prepare("update ledger set reason = 'x' where seq = 4").run();
    db.close();
    const r = await letheIn(["audit", "prune", "--before", new Date().toISOString(), "--yes", "--json"], p.dir);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/pruning it would destroy the evidence/);
    const again = new Database(join(p.dir, ".lethe", "state.db"), { readonly: true });
    expect((again.prepare("select count(*) as n from ledger").get() as { n: number }).n).toBe(10);
    again.close();
  });
});

describe("pruning and verification under concurrency (PostgreSQL state)", () => {
  it("instances opening at once, a prune racing a prune and a verify racing a prune: never a false failure", async (ctx) => {
    const p = await project(ctx, "postgres");
    // Many instances opening one fresh state at once all get in (guards installed once, never dropped).
    const opened = await Promise.all(Array.from({ length: 6 }, () => p.open()));
    const [a, b, c] = opened as [Lethe, Lethe, Lethe];
    let next = 1;
    for (let i = 0; i < 6; i++) next = (await entries(a, 5000, next)) + 1;
    const cut1 = await instantBetween();
    next = (await entries(a, 5000, next)) + 1;
    const cut2 = await instantBetween();
    await entries(a, 100, next);
    const [v, p1, p2] = await Promise.allSettled([
      c.audit.verify(),
      a.audit.prune({ before: cut1, yes: true }),
      b.audit.prune({ before: cut2, yes: true }),
    ]);
    expect(v.status === "fulfilled" && v.value.ok, JSON.stringify(v)).toBe(true);
    for (const r of [p1, p2])
      if (r.status === "rejected") expect((r.reason as { code?: string }).code).toBe("CONFLICT");
    expect([p1, p2].some((r) => r.status === "fulfilled")).toBe(true);
    expect(await c.audit.verify()).toMatchObject({ ok: true });
  }, 120_000);
});

describe("ledger pruning: what verification still catches (SQLite state)", () => {
  it("an entry inserted into the pruned range, an altered head frontier, a forged exported checkpoint", async (ctx) => {
    const p = await project(ctx, "sqlite");
    const l = await p.open();
    await entries(l, 20, 1);
    const cut = await instantBetween();
    await entries(l, 10, 100);
    const cp = await l.audit.checkpoint();
    await l.audit.prune({ before: cut, yes: true });
    expect((await l.audit.verify({ checkpoint: { ...cp, size: cp.size + 1 } })).reason).toMatch(
      /given checkpoint has an invalid signature/,
    );
    const db = new Database(join(p.dir, ".lethe", "state.db"));
    const row = db.prepare("select * from ledger order by seq desc limit 1").get() as Record<string, unknown>;
    db.prepare(
      "insert into ledger (seq, at, action, dataset, item_key, reason, prev_hash, hash) values (5, ?, 'deleted', 'logs', '999', 'forged', 'aa', 'bb')",
    ).run(row.at);
    db.close();
    expect(await l.audit.verify()).toMatchObject({
      ok: false,
      firstBad: 5,
      reason: expect.stringMatching(/pruned range/),
    });
    const db2 = new Database(join(p.dir, ".lethe", "state.db"));
    db2.exec("drop trigger ledger_no_delete");
    db2.prepare("delete from ledger where seq = 5").run();
    expect((await l.audit.verify()).ok).toBe(true);
    const head = db2.prepare("select frontier from ledger_head").get() as { frontier: string };
    const f = JSON.parse(head.frontier) as string[];
    f[0] = "00".repeat(32);
    db2.prepare("update ledger_head set frontier = ?").run(JSON.stringify(f));
    db2.close();
    expect((await l.audit.verify()).reason).toMatch(/head's Merkle frontier/);
  });
});

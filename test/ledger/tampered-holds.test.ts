import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): a writer of the state database, without the master key, deleted (or edited) a row of
// `holds`; the next apply/erase deleted the held subject's data while the ledger still showed `hold_added` and no
// `hold_released`. The unreleased holds are now sealed by an HMAC under the chain key that also names the newest
// hold entry on the ledger; a deletion reads them only through that check.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DAY = 86_400_000;
const REFUSED = { code: "AUDIT_FAILED", message: expect.stringMatching(/holds table does not match its seal/) };

/** A project whose `logs` hold 3 expired rows of `held-user` (ids 1–3) and 3 of `other` (ids 4–6). */
async function project(state: string) {
  const p = ledgerProject(state, (c) => cleanups.push(c));
  const db = new Database(join(p.dir, "app.db"));
  const old = new Date(Date.now() - 40 * DAY).toISOString();
  for (let i = 1; i <= 6; i++)
    db.prepare("insert into logs values (?, ?, ?, ?)").run(i, i <= 3 ? "held-user" : "other", "p", old);
  db.close();
  const ids = () => {
    const d = new Database(join(p.dir, "app.db"), { readonly: true });
    const rows = d.prepare("select id from logs order by id").all() as { id: number }[];
    d.close();
    return rows.map((r) => r.id);
  };
  return { ...p, ids };
}

const tampering: [string, (l: Lethe, holdId: string) => Promise<void>][] = [
  ["deleting the hold row", async (l, id) => void (await sql`delete from holds where id = ${id}`.execute(l.state.db))],
  [
    "changing its subject hash",
    async (l, id) =>
      void (await sql`update holds set subject_hash = ${l.ledger.subjectHash("nobody")} where id = ${id}`.execute(
        l.state.db,
      )),
  ],
  [
    "marking it released",
    async (l, id) =>
      void (await sql`update holds set released_at = ${new Date().toISOString()} where id = ${id}`.execute(l.state.db)),
  ],
  [
    "deleting the seal",
    async (l) => void (await sql`delete from lethe_meta where key = 'holds-seal'`.execute(l.state.db)),
  ],
  [
    "planting a second hold",
    async (l) =>
      void (await sql`insert into holds (id, subject_hash, dataset, reason, until, created_at, released_at) values ('hold_planted', null, 'logs', 'x', null, ${new Date().toISOString()}, null)`.execute(
        l.state.db,
      )),
  ],
];

function cases(state: () => Promise<string>) {
  for (const [what, tamper] of tampering)
    it(`${what} makes apply and erase refuse; the held data stays`, async () => {
      const p = await project(await state());
      const l = await p.open();
      const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
      await tamper(l, holdId);
      await expect(l.apply({ force: true })).rejects.toMatchObject(REFUSED);
      await expect(l.erase("held-user", { yes: true })).rejects.toMatchObject(REFUSED);
      await expect(l.janitor({ apply: true, force: true })).rejects.toMatchObject(REFUSED);
      expect(p.ids()).toEqual([1, 2, 3, 4, 5, 6]);
    });

  it("holds and seal rolled back to an older snapshot are refused: the seal names an older hold entry", async () => {
    const p = await project(await state());
    const l = await p.open();
    const first = await l.holds.add({ dataset: "logs", reason: "model audit" });
    await l.holds.release(first);
    // The snapshot: no active hold, a seal that authenticates that set.
    const seal = await l.state.db.selectFrom("lethe_meta").selectAll().where("key", "=", "holds-seal").execute();
    await l.holds.add({ subject: "held-user", reason: "litigation" });
    await sql`delete from holds where released_at is null`.execute(l.state.db);
    await sql`update lethe_meta set value = ${seal[0]?.value} where key = 'holds-seal'`.execute(l.state.db);
    await expect(l.apply({ force: true })).rejects.toMatchObject(REFUSED);
    // A hold change does not seal over the tampered set either.
    await expect(l.holds.add({ subject: "other", reason: "x" })).rejects.toMatchObject(REFUSED);
    expect(p.ids()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("untampered holds work: added, expired, released", async () => {
    const p = await project(await state());
    const l = await p.open();
    const until = new Date(Date.now() + DAY);
    await l.holds.add({ subject: "other", reason: "short", until });
    const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
    await l.apply({ force: true, now: new Date(until.getTime() + DAY) }); // the `other` hold has expired by then
    expect(p.ids()).toEqual([1, 2, 3]);
    await l.holds.release(holdId);
    await l.apply({ force: true });
    expect(p.ids()).toEqual([]);
  });
}

describe("holds edited by a state writer, SQLite state", () => {
  cases(async () => "./.lethe");

  it("the CLI exits 4 and names no subject", async () => {
    const p = await project("./.lethe");
    const l = await p.open();
    const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
    await sql`delete from holds where id = ${holdId}`.execute(l.state.db);
    await l.close();
    const r = await letheIn(["apply", "--force"], p.dir);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/holds table does not match its seal/);
    expect(r.stderr + r.stdout).not.toContain("held-user");
    expect(p.ids()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("holds edited by a state writer, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

// The transition and rotation paths are the same code on both backends; SQLite keeps the key file simple.
describe("holds across the upgrade and a master-key rotation, SQLite state", () => {
  /** The state as lethe before 0013 left it: no seal, no index, no record of the migration. */
  async function downgrade(l: Lethe) {
    await sql`delete from lethe_meta where key = 'holds-seal'`.execute(l.state.db);
    await sql`drop index ledger_hold_seq`.execute(l.state.db);
    await sql`delete from lethe_migrations where name = '0013-holds-seal'`.execute(l.state.db);
  }

  it("holds existing at the upgrade are sealed by it and kept; a rotation reseals them", async () => {
    const p = await project("./.lethe");
    let l = await p.open();
    const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
    await downgrade(l);
    await l.close();
    l = await p.open(); // applies 0013 and seals the hold
    await l.apply({ force: true });
    expect(p.ids()).toEqual([1, 2, 3]);
    const newKey = randomBytes(32);
    await l.keyRotation.master(newKey);
    await l.close();
    writeFileSync(join(p.dir, ".lethe", "master.key"), newKey.toString("hex"));
    l = await p.open(); // holds only the new key: reads the holds only if the rotation resealed them
    expect((await l.holds.list()).map((h) => h.id)).toEqual([holdId]);
    await l.holds.release(holdId);
    await l.apply({ force: true });
    expect(p.ids()).toEqual([]);
  });

  it("a first open killed before it sealed leaves a state the next open seals; one with a hold entry is not", async () => {
    const p = await project("./.lethe");
    let l = await p.open();
    await sql`delete from lethe_meta where key = 'holds-seal'`.execute(l.state.db); // never held anything
    await l.close();
    l = await p.open();
    const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
    await l.apply({ force: true });
    expect(p.ids()).toEqual([1, 2, 3]);
    await sql`delete from holds where id = ${holdId}`.execute(l.state.db);
    await sql`delete from lethe_meta where key = 'holds-seal'`.execute(l.state.db);
    await l.close();
    l = await p.open(); // the ledger shows a hold: this is not a state that never held one
    await expect(l.apply({ force: true })).rejects.toMatchObject(REFUSED);
    expect(p.ids()).toEqual([1, 2, 3]);
  });

  it("an upgrade of a state whose hold row was deleted refuses to seal it", async () => {
    const p = await project("./.lethe");
    const l = await p.open();
    const holdId = await l.holds.add({ subject: "held-user", reason: "litigation" });
    await downgrade(l);
    await sql`delete from holds where id = ${holdId}`.execute(l.state.db);
    await l.close();
    await expect(p.open()).rejects.toMatchObject(REFUSED);
    expect(p.ids()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

import { type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { entryHash } from "../../src/ledger/canonical.js";
import { headMac } from "../../src/ledger/head-mac.js";
import { FrontierBuilder } from "../../src/ledger/merkle.js";
import type { StateDatabase } from "../../src/state/schema.js";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9): a writer of the state database, without the master key, made the state look as if migration 0009
// (the head MAC) had never run; the next open keyed the forged head as a first upgrade. A keyed state must never
// be keyed again, and since v2 a deletion recorded item by item is forged.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Db = Kysely<StateDatabase>;

/** What a writer of the state does first: the append-only guards off. */
async function unguard(db: Db, pg: boolean): Promise<void> {
  for (const t of ["ledger", "ledger_items", "checkpoints"])
    if (pg) await sql.raw(`alter table ${t} disable trigger ${t}_append_only`).execute(db);
    else for (const op of ["update", "delete"]) await sql.raw(`drop trigger if exists ${t}_no_${op}`).execute(db);
}

/** Appends one per-item `deleted` entry with a correct SHA-256 chain and moves the head over it (MAC untouched). */
async function forgeV1Entry(db: Db, mac?: (h: { seq: number; hash: string; frontier: string }) => string) {
  const h = await db.selectFrom("ledger_head").select(["seq", "hash", "frontier"]).executeTakeFirstOrThrow();
  const row = {
    seq: Number(h.seq) + 1,
    at: new Date().toISOString(),
    action: "deleted",
    dataset: "logs",
    item_key: "99999",
    key_hash: null,
    subject_hash: null,
    reason: "retention",
    run_id: "run_x",
    data: null,
  };
  const hash = entryHash(h.hash, row);
  await db
    .insertInto("ledger")
    .values({ ...row, prev_hash: h.hash, hash })
    .execute();
  const f = new FrontierBuilder(JSON.parse(h.frontier) as string[], Number(h.seq));
  f.add(hash);
  const next = { seq: row.seq, hash, frontier: JSON.stringify(f.toHex()) };
  await db
    .updateTable("ledger_head")
    .set({ ...next, ...(mac ? { mac: mac(next) } : {}) })
    .execute();
  return row.seq;
}

/** The state as it looked before migration 0009: no head MAC and no record of the migration. */
async function stripHeadMac(db: Db): Promise<void> {
  await sql`delete from lethe_migrations where name = '0009-ledger-head-mac'`.execute(db);
  await sql`alter table ledger_head drop column mac`.execute(db);
  await sql`alter table ledger_head drop column keyed_from`.execute(db);
}

/** Every trace of 0009–0013 removed, as far as a state writer can: what a genuine ledger v1 state looks like. */
async function rollBackToV1(db: Db): Promise<void> {
  await stripHeadMac(db);
  await sql`delete from lethe_migrations where name in ('0010-signing-keys', '0011-ledger-items', '0012-intent-mac', '0013-holds-seal')`.execute(
    db,
  );
  await sql`drop index ledger_hold_seq`.execute(db);
  await sql`delete from lethe_meta where key = 'holds-seal'`.execute(db);
  await sql`alter table intents drop column mac`.execute(db);
  await sql`delete from server_status where key like 'ledger_%'`.execute(db);
  await sql`drop table signing_keys`.execute(db);
  await sql`drop table ledger_items`.execute(db);
  await sql`alter table checkpoints drop column key_id`.execute(db);
  await sql`alter table ledger_anchors drop column key_id`.execute(db);
}

function cases(state: () => Promise<string>) {
  const project = async () => {
    const p = ledgerProject(await state(), (c) => cleanups.push(c));
    const l = await p.open();
    return { p, l, pg: l.state.dialect.name === "postgres" };
  };
  const deletions = (keys: number[]) =>
    keys.map((key) => ({ action: "deleted" as const, dataset: "logs", key, subject: `user-${key}` }));

  it("a head MAC stripped with its migration's record is refused at open, before anything runs again", async () => {
    const { p, l, pg } = await project();
    await l.ledger.append(deletions([1, 2, 3]));
    await l.audit.checkpoint();
    const db = l.state.db;
    await unguard(db, pg);
    await forgeV1Entry(db);
    await stripHeadMac(db);
    await l.close();
    await expect(p.open()).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(/0009-ledger-head-mac is no longer recorded/),
    });
    // Nothing ran: the migration is still unrecorded, the head still unkeyed.
    const again = await p.open().catch((e: unknown) => e);
    expect(again).toMatchObject({ code: "AUDIT_FAILED" });
  });

  it("a state rolled back to look like ledger v1 is not keyed again when it holds a batch entry", async () => {
    const { p, l, pg } = await project();
    await l.ledger.append(deletions([1, 2, 3]));
    const db = l.state.db;
    await unguard(db, pg);
    await forgeV1Entry(db);
    await rollBackToV1(db);
    await l.close();
    await expect(p.open()).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(/keyed before \(entry 1 is a v2 batch entry\)/),
    });
    // The head stays unkeyed: every later open verifies it as tampered and appends nothing.
    const later = await p.open();
    const r = await later.audit.verify({ full: true });
    expect(r).toMatchObject({ ok: false });
    expect(r.reason).toMatch(/not authentic|forged/);
    await expect(later.ledger.append([{ action: "hold_added", reason: "x" }])).rejects.toMatchObject({
      code: "AUDIT_FAILED",
    });
  });

  it("nor when a verification mark authentic under the chain key remains", async () => {
    const { p, l, pg } = await project();
    await l.ledger.append([{ action: "hold_added", reason: "litigation" }]);
    await l.audit.verify({ record: true });
    const db = l.state.db;
    await unguard(db, pg);
    const mark = await db.selectFrom("server_status").selectAll().where("key", "=", "ledger_verified_mark").execute();
    await forgeV1Entry(db);
    await rollBackToV1(db);
    await db.insertInto("server_status").values(mark).execute();
    await l.close();
    await expect(p.open()).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(/verification mark/),
    });
  });

  it("a genuine ledger v1 state (nothing keyed yet) is keyed at the upgrade and verifies", async () => {
    const { p, l, pg } = await project();
    await l.ledger.append([{ action: "hold_added", reason: "litigation" }]);
    const db = l.state.db;
    await unguard(db, pg);
    await forgeV1Entry(db);
    await rollBackToV1(db);
    await l.close();
    // Indistinguishable from a first upgrade, so accepted (docs/security.md: only an exported checkpoint helps).
    const up = await p.open();
    expect(await up.audit.verify({ full: true })).toMatchObject({ ok: true, entries: 2 });
    await up.ledger.append(deletions([7, 8]));
    expect(await up.audit.verify({ full: true })).toMatchObject({ ok: true, entries: 3 });
  });

  it("item rows planted beyond the head fail verification and every append, before anything is written", async () => {
    const { l } = await project();
    await l.ledger.append(deletions([1, 2, 3]));
    await sql`insert into ledger_items (seq, idx, item_key) values (3, 0, 77777)`.execute(l.state.db);
    const r = await l.audit.verify({ full: true });
    expect(r).toMatchObject({ ok: false, firstBad: 3 });
    expect(r.reason).toMatch(/beyond the ledger head/);
    await expect(l.ledger.append(deletions([4]))).rejects.toMatchObject({ code: "AUDIT_FAILED" });
    expect(await l.ledger.size()).toBe(1);
  });

  it("malformed item rows (text key, key and key tag, oversized tag) fail verification as tampering", async () => {
    const { l, pg } = await project();
    await l.ledger.append(deletions([1, 2, 3]));
    await unguard(l.state.db, pg);
    const tag = pg ? sql`'\\x${sql.raw("00".repeat(100))}'::bytea` : sql.raw(`x'${"00".repeat(100)}'`);
    await sql`update ledger_items set key_tag = ${tag} where seq = 1 and idx = 1`.execute(l.state.db);
    const r = await l.audit.verify({ full: true });
    expect(r).toMatchObject({ ok: false, firstBad: 1 });
    expect(r.reason).toMatch(/item 1 of entry 1 is malformed \(both item_key and key_tag\)/);
  });

  it("a key tag planted on an item with a clear key does not make audit log --key list it", async () => {
    const { l, pg } = await project();
    await l.ledger.append([...deletions([1]), { action: "deleted", dataset: "logs", key: "abc", subject: "user-x" }]);
    const realTag = (await l.audit.log({ dataset: "logs", key: "abc" })).length;
    expect(realTag).toBe(1);
    await unguard(l.state.db, pg);
    // The forged row claims key "abc" by its tag while it records the deletion of row 1.
    await sql`update ledger_items set key_tag = (select key_tag from ledger_items where seq = 1 and idx = 1) where seq = 1 and idx = 0`.execute(
      l.state.db,
    );
    const hits = await l.audit.log({ dataset: "logs", key: "abc" });
    expect(hits.map((e) => e.item)).toEqual([1]);
  });

  it("a per-item deletion entry after a batch entry fails verification, even with a valid head MAC", async () => {
    const { l } = await project();
    await l.ledger.append(deletions([1, 2, 3]));
    await l.audit.verify({ record: true });
    // Only the master key's holder could reseal the head: this pins the check behind the MAC.
    const chainKey = (l.ledger as unknown as { chainKey: Buffer }).chainKey;
    const keyedFrom = Number(
      (await l.state.db.selectFrom("ledger_head").select("keyed_from").executeTakeFirstOrThrow()).keyed_from,
    );
    const seq = await forgeV1Entry(l.state.db, (h) => headMac(chainKey, { ...h, keyedFrom }));
    for (const full of [false, true]) {
      const r = await l.audit.verify({ full });
      expect(r).toMatchObject({ ok: false, firstBad: seq });
      expect(r.reason).toMatch(/after batch entry 1: .*forged/);
    }
  });
}

describe("the ledger head is keyed once, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("the ledger head is keyed once, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

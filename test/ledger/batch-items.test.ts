import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { entryHash } from "../../src/ledger/canonical.js";
import { headMac } from "../../src/ledger/head-mac.js";
import { FrontierBuilder } from "../../src/ledger/merkle.js";
import { entryMatches, type InclusionProof, verifyInclusion } from "../../src/ledger/proof.js";
import type { LedgerEntry } from "../../src/ledger/types.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

const quiet = { logger: { warn: () => undefined, info: () => undefined } };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

// The documented hashing (docs/ledger.md "Ledger v2"), written again here from the text, not imported.
const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
function leaf(salt: string, idx: number, key: number | undefined, keyTag: string | undefined, subjectTag?: string) {
  const i = Buffer.alloc(4);
  i.writeUInt32BE(idx);
  const k = Buffer.alloc(9);
  if (key !== undefined) {
    k[0] = 1;
    k.writeBigInt64BE(BigInt(key), 1);
  } else {
    k[0] = 2;
    Buffer.from(keyTag as string, "hex").copy(k, 1);
  }
  const s = subjectTag ? Buffer.concat([Buffer.from([1]), Buffer.from(subjectTag, "hex")]) : Buffer.from([0]);
  return sha(Buffer.from([0]), Buffer.from("lethe.item.v2\0", "latin1"), Buffer.from(salt, "hex"), i, k, s);
}
/** RFC 6962 MTH over leaf hashes. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

async function project(rows: number) {
  const p = makeProject({ logs: rows });
  const lethe = await openLethe(join(p.dir, "lethe.yaml"), quiet);
  closers.push(() => lethe.close());
  return { p, lethe };
}

describe("ledger v2: one entry per batch, one compact row per item", () => {
  it("records a run's deletions as batch entries whose items are each found, listed and proved", async () => {
    const { p, lethe } = await project(400);
    const run = await lethe.apply({ force: true });
    expect(run.datasets.find((d) => d.name === "logs")?.deleted).toBe(200);
    const db = new Database(join(p.dir, ".lethe", "state.db"), { readonly: true });
    closers.push(async () => {
      db.close();
    });
    const batches = db.prepare("select seq, data from ledger where action = 'deleted'").all() as {
      seq: number;
      data: string;
    }[];
    // One entry per batch (the project's logs dataset deletes 7 rows a batch), not one per item.
    expect(batches).toHaveLength(Math.ceil(200 / 7));
    expect(batches.reduce((n, b) => n + (JSON.parse(b.data) as { items: number }).items, 0)).toBe(200);
    expect((db.prepare("select count(*) as n from ledger_items").get() as { n: number }).n).toBe(200);

    // Every deleted row still has its own record, by dataset, by key and by subject.
    const listed = (await lethe.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted");
    expect(listed.map((e) => e.key).sort((a, b) => Number(a) - Number(b))).toEqual(p.expiredLogs);
    const one = p.expiredLogs[7] as number;
    const byKey = await lethe.audit.log({ dataset: "logs", key: String(one) });
    expect(byKey.map((e) => [e.action, e.key, e.reason])).toEqual([["deleted", one, "retention"]]);
    const bySubject = (await lethe.audit.log({ subject: "user-2" })).filter((e) => e.action === "deleted");
    expect(bySubject.map((e) => e.key).sort((a, b) => Number(a) - Number(b))).toEqual(
      p.expiredLogs.filter((i) => i % 5 === 2),
    );
    expect(bySubject.every((e) => e.subjectHash === lethe.ledger.subjectHash("user-2"))).toBe(true);
    expect((await lethe.audit.verify({ full: true })).ok).toBe(true);

    // An item's proof: its path to the batch root, the entry's path to a signed checkpoint.
    const target = byKey[0];
    const proof = await lethe.audit.prove(target?.seq as number, target?.item);
    expect(verifyInclusion(lethe.audit.publicKey(), proof)).toBe(true);
    const it = proof.item as NonNullable<InclusionProof["item"]>;
    expect(it.key).toBe(one);
    // Recomputed with code written from the docs: leaf, then the RFC 6962 path to the entry's root.
    let node = leaf(it.salt, it.index, it.key, it.keyTag, it.subjectTag);
    let fn = it.index;
    let sn = it.size - 1;
    for (const sib of it.path.map((h) => Buffer.from(h, "hex"))) {
      if (fn % 2 === 1 || fn === sn) {
        node = sha(Buffer.from([1]), sib, node);
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else node = sha(Buffer.from([1]), node, sib);
      fn >>= 1;
      sn >>= 1;
    }
    expect(node.toString("hex")).toBe((proof.entry?.data as { root?: string } | undefined)?.root);
    // The proof names one item: no sibling's key, subject or salt is in it.
    const text = JSON.stringify(proof);
    for (const other of p.expiredLogs.filter((k) => k !== one))
      expect(text).not.toMatch(new RegExp(`"key":${other}\\b`));
    // Edited proofs fail: another key, another index.
    expect(verifyInclusion(lethe.audit.publicKey(), { ...proof, item: { ...it, key: one + 1 } })).toBe(false);
    expect(
      verifyInclusion(lethe.audit.publicKey(), { ...proof, item: { ...it, index: (it.index + 1) % it.size } }),
    ).toBe(false);
  });

  it("audit export follows each batch entry with its items and salts, enough to recompute the root", async () => {
    const { p, lethe } = await project(60);
    await lethe.apply({ force: true });
    await lethe.close();
    closers.length = 0;
    const r = await letheIn(["audit", "export"], p.dir);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const batch = lines.find((l) => l.action === "deleted" && l.item === undefined);
    const data = batch?.data as { items: number; root: string };
    const items = lines.filter((l) => l.seq === batch?.seq && l.item !== undefined);
    expect(items).toHaveLength(data.items);
    const leaves = items.map((l) =>
      leaf(
        l.salt as string,
        l.item as number,
        l.key as number | undefined,
        l.keyTag as string | undefined,
        l.subjectTag as string,
      ),
    );
    expect(mth(leaves).toString("hex")).toBe(data.root);
  });

  it("the CLI proves one item (audit prove --item) and verify-proof checks it offline; an edited item fails (exit 4)", async () => {
    const { p, lethe } = await project(60);
    await lethe.apply({ force: true });
    await lethe.close();
    closers.length = 0;
    const one = p.expiredLogs[3] as number;
    const log = await letheIn(["audit", "log", "--dataset", "logs", "--key", String(one), "--json"], p.dir);
    const rec = (log.json as { entries: { seq: number; item: number }[] }).entries[0];
    expect(rec?.item).toBeGreaterThanOrEqual(0);
    const out = await letheIn(
      ["audit", "prove", String(rec?.seq), "--item", String(rec?.item), "--out", "proof.json"],
      p.dir,
    );
    expect(out.code).toBe(0);
    writeFileSync(join(p.dir, "key.pem"), (await letheIn(["audit", "public-key"], p.dir)).stdout);
    const ok = await letheIn(["audit", "verify-proof", "proof.json", "--public-key", "key.pem"], p.dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`item ${rec?.item} of \\d+ in #${rec?.seq} .*deleted logs.* key ${one}`));
    const proof = JSON.parse(readFileSync(join(p.dir, "proof.json"), "utf8")) as InclusionProof;
    writeFileSync(join(p.dir, "edited.json"), JSON.stringify({ ...proof, item: { ...proof.item, key: one + 2 } }));
    const bad = await letheIn(["audit", "verify-proof", "edited.json", "--public-key", "key.pem"], p.dir);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toMatch(/PROOF INVALID: item \d+ of entry/);
    expect((await letheIn(["audit", "prove", String(rec?.seq), "--item", "99999"], p.dir)).code).not.toBe(0);
    expect((await letheIn(["audit", "prove", String(rec?.seq), "--item", "x"], p.dir)).stderr).toMatch(
      /--item must be/,
    );
  });

  it("item rows refuse UPDATE and DELETE; altered, removed or stray rows fail verification and are named", async () => {
    /** A fresh project after one run, its item guards dropped, then `tamper` applied to its state. */
    const tampered = async (tamper: (db: Database.Database, seq: number) => void) => {
      const { p, lethe } = await project(40);
      await lethe.apply({ force: true });
      await lethe.close();
      closers.length = 0;
      const db = new Database(join(p.dir, ".lethe", "state.db"));
      expect(() => db.exec("update ledger_items set item_key = 999")).toThrow(/append-only/);
      expect(() => db.exec("delete from ledger_items")).toThrow(/append-only/);
      const seq = (db.prepare("select seq from ledger_items limit 1").get() as { seq: number }).seq;
      db.exec("drop trigger ledger_items_no_update; drop trigger ledger_items_no_delete");
      tamper(db, seq);
      db.close();
      const l = await openLethe(join(p.dir, "lethe.yaml"), quiet);
      try {
        return { seq, r: await l.audit.verify({ full: true }) };
      } finally {
        await l.close();
      }
    };
    const untouched = await tampered(() => undefined);
    expect(untouched.r.ok).toBe(true);
    const altered = await tampered((db, seq) =>
      db.prepare("update ledger_items set item_key = 4242 where seq = ? and idx = 1").run(seq),
    );
    expect(altered.r).toMatchObject({ ok: false, firstBad: altered.seq });
    expect(altered.r.reason).toMatch(/altered/);
    const removed = await tampered((db, seq) =>
      db.prepare("delete from ledger_items where seq = ? and idx = 2").run(seq),
    );
    expect(removed.r).toMatchObject({ ok: false, firstBad: removed.seq });
    expect(removed.r.reason).toMatch(/item 2 .* is missing/);
    const tail = await tampered((db, seq) =>
      db
        .prepare("delete from ledger_items where seq = ? and idx = (select max(idx) from ledger_items where seq = ?)")
        .run(seq, seq),
    );
    expect(tail.r.reason).toMatch(/commits to \d+ items but \d+ item rows exist/);
    const stray = await tampered((db) =>
      db.prepare("insert into ledger_items (seq, idx, item_key) values (1, 0, 77)").run(),
    );
    expect(stray.r).toMatchObject({ ok: false });
    expect(stray.r.reason).toMatch(/not a batch of items|belong to no batch entry/);
  });

  it("a ledger written before v2 (one entry per deleted item) keeps verifying and answering beside new batch entries", async () => {
    const { p, lethe } = await project(40);
    // Appended exactly as the v1 ledger did: one chained entry per item, the keyed head moved over them.
    const chainKey = (lethe.ledger as unknown as { chainKey: Buffer }).chainKey;
    const sh = lethe.ledger.subjectHash("user-1");
    await lethe.state.db.transaction().execute(async (trx) => {
      const h = await trx.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();
      let seq = Number(h.seq);
      let prev = h.hash;
      const frontier = new FrontierBuilder(JSON.parse(h.frontier) as string[], seq);
      for (const key of [9001, 9002]) {
        seq += 1;
        const row = {
          seq,
          at: new Date().toISOString(),
          action: "deleted",
          dataset: "logs",
          item_key: String(key),
          key_hash: null,
          subject_hash: sh,
          reason: "retention",
          run_id: "run_v1",
          data: null,
        };
        const hash = entryHash(prev, row);
        await trx
          .insertInto("ledger")
          .values({ ...row, prev_hash: prev, hash })
          .execute();
        frontier.add(hash);
        prev = hash;
      }
      const next = { seq, hash: prev, frontier: JSON.stringify(frontier.toHex()), keyedFrom: Number(h.keyed_from) };
      await trx
        .updateTable("ledger_head")
        .set({ seq, hash: prev, frontier: next.frontier, mac: headMac(chainKey, next) })
        .execute();
    });
    expect((await lethe.audit.verify({ full: true })).ok).toBe(true);
    await lethe.apply({ force: true });
    expect((await lethe.audit.verify({ full: true })).ok).toBe(true);
    // Old per-item entries and new batch items answer the same questions, side by side.
    const bySubject = (await lethe.audit.log({ subject: "user-1" })).filter((e) => e.action === "deleted");
    expect(bySubject.filter((e) => e.item === undefined).map((e) => e.key)).toEqual([9001, 9002]);
    expect(bySubject.filter((e) => e.item !== undefined).map((e) => e.key)).toEqual(
      p.expiredLogs.filter((k) => k % 5 === 1),
    );
    const old = bySubject[0] as LedgerEntry;
    const proof = await lethe.audit.prove(old.seq);
    expect(verifyInclusion(lethe.audit.publicKey(), proof) && entryMatches(proof)).toBe(true);
  });
});

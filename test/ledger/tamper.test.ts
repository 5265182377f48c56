import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { entryHash } from "../../src/ledger/canonical.js";
import { deriveChainKey, headMac } from "../../src/ledger/head-mac.js";
import { FrontierBuilder } from "../../src/ledger/merkle.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

interface VerifyJson {
  ok: boolean;
  entries: number;
  firstBad?: number;
  reason?: string;
}

/**
 * A project with a ledger of a few dozen entries: a run's batch entries (its deletions, seq 2–4) then one `held`
 * entry per item, which stays one entry each (ledger v2 folds only deletions), so the seqs tampered with below exist.
 */
async function buildLedgerProject() {
  const p = makeProject({ logs: 30 });
  expect((await letheIn(["apply"], p.dir)).code).toBe(0);
  const l = await openLethe(join(p.dir, "lethe.yaml"), { logger: { warn: () => undefined, info: () => undefined } });
  await l.ledger.append(
    Array.from({ length: 30 }, (_, i) => ({ action: "held" as const, dataset: "logs", key: 1000 + i, reason: "hold" })),
  );
  // As `apply` does after its run: a signed checkpoint covers the whole ledger.
  await l.audit.checkpoint();
  await l.close();
  const v = await letheIn(["audit", "verify", "--json"], p.dir);
  expect(v.code).toBe(0);
  return { p, size: (v.json as VerifyJson).entries, state: join(p.dir, ".lethe", "state.db") };
}

let template: Promise<{ dir: string; size: number }> | undefined;

/**
 * A fresh copy of that project for each test (they tamper with it): built once, then its directory (config, app
 * database, closed state with its master key) is copied, instead of re-running `apply` and a checkpoint 17 times.
 */
async function ledgerProject() {
  template ??= buildLedgerProject().then(({ p, size }) => ({ dir: p.dir, size }));
  const { dir: from, size } = await template;
  const dir = tempDir();
  cpSync(from, dir, { recursive: true });
  return { p: { dir }, size, state: join(dir, ".lethe", "state.db") };
}

/** What an attacker with write access to the state file does first. */
function unguarded(path: string): Database.Database {
  const db = new Database(path);
  db.exec(
    "drop trigger ledger_no_update; drop trigger ledger_no_delete; drop trigger checkpoints_no_update; drop trigger checkpoints_no_delete;",
  );
  return db;
}

/**
 * Drops the verified mark, whose checkpoint count would otherwise report the deleted checkpoints
 * first (see verify-incremental.test.ts): these tests pin the checks behind it.
 */
function forgetVerification(db: Database.Database): void {
  db.prepare("delete from server_status where key = 'ledger_verified_mark'").run();
}

/** What only a holder of the master key can do: MAC the head as it now stands. */
function reseal(db: Database.Database, dir: string): void {
  const master = Buffer.from(readFileSync(join(dir, ".lethe", "master.key"), "utf8").trim(), "hex");
  const h = db.prepare("select seq, hash, frontier, keyed_from from ledger_head").get() as {
    seq: number;
    hash: string;
    frontier: string;
    keyed_from: number;
  };
  const mac = headMac(deriveChainKey(master), {
    seq: h.seq,
    hash: h.hash,
    frontier: h.frontier,
    keyedFrom: h.keyed_from,
  });
  db.prepare("update ledger_head set mac = ?").run(mac);
}

/**
 * Appends one entry with a correct plain SHA-256 chain and rebuilds the head's size, hash and frontier. A `held`
 * entry: a per-item `deleted` one after a batch is refused on its own (rekey-replay.test.ts), the head MAC is pinned here.
 */
function forgeEntry(db: Database.Database): number {
  const h = db.prepare("select seq, hash, frontier from ledger_head").get() as {
    seq: number;
    hash: string;
    frontier: string;
  };
  const base = {
    seq: h.seq + 1,
    at: new Date().toISOString(),
    action: "held",
    dataset: "logs",
    item_key: "999999",
    key_hash: null,
    subject_hash: null,
    reason: null,
    run_id: null,
    data: null,
  };
  const hash = entryHash(h.hash, base);
  db.prepare(
    "insert into ledger (seq, at, action, dataset, item_key, key_hash, subject_hash, reason, run_id, data, prev_hash, hash) values (@seq, @at, @action, @dataset, @item_key, @key_hash, @subject_hash, @reason, @run_id, @data, @prev_hash, @hash)",
  ).run({ ...base, prev_hash: h.hash, hash });
  const frontier = new FrontierBuilder(JSON.parse(h.frontier) as string[], h.seq);
  frontier.add(hash);
  db.prepare("update ledger_head set seq = ?, hash = ?, frontier = ?").run(
    base.seq,
    hash,
    JSON.stringify(frontier.toHex()),
  );
  return base.seq;
}

/** Truncates to `keep` entries and rebuilds the head so the chain and frontier match what is left. */
function truncateTo(db: Database.Database, keep: number): void {
  db.prepare("delete from ledger where seq > ?").run(keep);
  const frontier = new FrontierBuilder();
  const rows = db.prepare("select seq, hash from ledger order by seq").all() as { seq: number; hash: string }[];
  for (const r of rows) frontier.add(r.hash);
  db.prepare("update ledger_head set seq = ?, hash = ?, frontier = ?").run(
    keep,
    rows[rows.length - 1]?.hash,
    JSON.stringify(frontier.toHex()),
  );
}

async function verify(dir: string, extra: string[] = []) {
  const r = await letheIn(["audit", "verify", "--json", "--full", ...extra], dir);
  return { code: r.code, json: r.json as VerifyJson, stdout: r.stdout };
}

describe("ledger tamper evidence", () => {
  it("the ledger and checkpoint tables refuse UPDATE and DELETE", async () => {
    const { state } = await ledgerProject();
    const db = new Database(state);
    expect(() => db.prepare("update ledger set reason = 'x' where seq = 3").run()).toThrow(/append-only/);
    expect(() => db.prepare("delete from ledger where seq = 3").run()).toThrow(/append-only/);
    // Signed checkpoints too: deleting them would hide a truncated tail.
    expect(() => db.prepare("delete from checkpoints").run()).toThrow(/append-only/);
    expect(() => db.prepare("update checkpoints set root = 'x'").run()).toThrow(/append-only/);
    db.close();
  });

  it("catches a modified entry and names it", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    db.prepare("update ledger set reason = 'nothing to see' where seq = 7").run();
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ ok: false, firstBad: 7 });
    expect(r.json.reason).toMatch(/altered/);
  });

  it("catches a modified entry even when its hash was recomputed (the chain breaks)", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    db.prepare("update ledger set hash = ? where seq = 5").run("f".repeat(64));
    db.close();
    expect((await verify(p.dir)).json.firstBad).toBe(5);
  });

  it("catches a deleted entry", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    db.prepare("delete from ledger where seq = 9").run();
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ ok: false, firstBad: 9 });
  });

  it("catches reordered entries", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    const a = db.prepare("select * from ledger where seq = 10").get() as Record<string, unknown>;
    const b = db.prepare("select * from ledger where seq = 11").get() as Record<string, unknown>;
    const upd = db.prepare(
      "update ledger set at=@at, action=@action, dataset=@dataset, item_key=@item_key, key_hash=@key_hash, subject_hash=@subject_hash, reason=@reason, run_id=@run_id, data=@data, prev_hash=@prev_hash, hash=@hash where seq=@seq",
    );
    upd.run({ ...b, seq: 10 });
    upd.run({ ...a, seq: 11 });
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json.firstBad).toBe(10);
  });

  it("catches a truncated tail against the stored signed checkpoints", async () => {
    const { p, state, size } = await ledgerProject();
    const db = unguarded(state);
    const last = db.prepare("select seq, hash from ledger where seq = ?").get(size - 3) as {
      seq: number;
      hash: string;
    };
    db.prepare("delete from ledger where seq > ?").run(size - 3);
    db.prepare("update ledger_head set seq = ?, hash = ?").run(last.seq, last.hash);
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json.reason).toMatch(/truncated|checkpoint/);
  });

  it("catches a head rolled back below entries that are still stored", async () => {
    const { p, state, size } = await ledgerProject();
    const db = unguarded(state);
    db.prepare("delete from checkpoints").run();
    forgetVerification(db);
    const row = db.prepare("select seq, hash from ledger where seq = ?").get(size - 2) as { seq: number; hash: string };
    db.prepare("update ledger_head set seq = ?, hash = ?").run(row.seq, row.hash);
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ ok: false, firstBad: size - 1 });
    expect(r.json.reason).toMatch(/beyond the ledger head/);
  });

  it("catches a truncated and re-signed ledger only with an exported checkpoint", async () => {
    const { p, state, size } = await ledgerProject();
    expect((await letheIn(["audit", "checkpoint", "--out", "cp.json"], p.dir)).code).toBe(0);
    const db = unguarded(state);
    // Rewrite history: drop the tail, fix the head and its Merkle frontier, drop the checkpoints that covered it.
    const keep = size - 5;
    db.prepare("delete from ledger where seq > ?").run(keep);
    db.prepare("delete from checkpoints where size > ?").run(keep);
    truncateTo(db, keep);
    forgetVerification(db);
    // The attacker holds the master key: re-seals the head with the chain key and re-signs the history.
    reseal(db, p.dir);
    db.close();
    const l = await openLethe(join(p.dir, "lethe.yaml"), { logger: { warn: () => undefined, info: () => undefined } });
    await l.audit.checkpoint();
    await l.close();
    const self = await letheIn(["audit", "verify", "--json"], p.dir);
    expect(self.stderr).toBe("");
    expect(self.code).toBe(0);
    const r = await verify(p.dir, ["--checkpoint", "cp.json"]);
    expect(r.code).toBe(4);
    expect(r.json.reason).toMatch(/truncated/);
  });

  it("an entry forged with a correct SHA-256 chain and a rebuilt head fails: the head is keyed", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    const seq = forgeEntry(db);
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ ok: false, firstBad: seq });
    expect(r.json.reason).toMatch(/not authentic/);
    // Nor does the next run extend it or a checkpoint sign it.
    expect((await letheIn(["audit", "checkpoint"], p.dir)).code).toBe(4);
    expect((await letheIn(["apply"], p.dir)).code).not.toBe(0);
  });

  it("a truncated ledger with its checkpoints deleted fails: the head MAC proves the length", async () => {
    const { p, state, size } = await ledgerProject();
    const db = unguarded(state);
    db.prepare("delete from checkpoints").run();
    forgetVerification(db);
    truncateTo(db, size - 4);
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.json.reason).toMatch(/not authentic/);
  });

  it("a MAC stripped from the head is not re-keyed at the next open", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    forgeEntry(db);
    db.prepare("update ledger_head set mac = null, keyed_from = null").run();
    db.close();
    expect((await verify(p.dir)).code).toBe(4);
    expect((await verify(p.dir)).json.reason).toMatch(/not authentic/);
  });

  it("a head MAC stripped with its migration's record is refused, never keyed again (exit 4)", async () => {
    const { p, state } = await ledgerProject();
    const db = unguarded(state);
    forgeEntry(db);
    // What the state looked like before migration 0009; 0010 and 0011 stay recorded (see rekey-replay.test.ts).
    db.exec("alter table ledger_head drop column mac; alter table ledger_head drop column keyed_from;");
    db.prepare("delete from lethe_migrations where name = '0009-ledger-head-mac'").run();
    db.close();
    const r = await verify(p.dir);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/0009-ledger-head-mac is no longer recorded/);
    const after = new Database(state);
    expect(after.prepare("select count(*) as n from lethe_migrations where name like '0009%'").get()).toEqual({ n: 0 });
    after.close();
  });

  it("an exported checkpoint that was altered fails its signature", async () => {
    const { p } = await ledgerProject();
    await letheIn(["audit", "checkpoint", "--out", "cp.json"], p.dir);
    const cp = JSON.parse(readFileSync(join(p.dir, "cp.json"), "utf8"));
    cp.root = `${"0".repeat(63)}1`;
    writeFileSync(join(p.dir, "bad.json"), JSON.stringify(cp));
    const r = await verify(p.dir, ["--checkpoint", "bad.json"]);
    expect(r.code).toBe(4);
    expect(r.json.reason).toMatch(/signature/);
  });

  it("inclusion proofs verify offline with the public key, and altered proofs do not", async () => {
    const { p } = await ledgerProject();
    const pem = (await letheIn(["audit", "public-key"], p.dir)).stdout;
    writeFileSync(join(p.dir, "key.pem"), pem);
    expect((await letheIn(["audit", "prove", "4", "--out", "proof.json"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify-proof", "proof.json", "--public-key", "key.pem"], p.dir)).code).toBe(0);
    const proof = JSON.parse(readFileSync(join(p.dir, "proof.json"), "utf8"));
    proof.entryHash = proof.entryHash.replace(/^./, (c: string) => (c === "a" ? "b" : "a"));
    writeFileSync(join(p.dir, "proof2.json"), JSON.stringify(proof));
    expect((await letheIn(["audit", "verify-proof", "proof2.json", "--public-key", "key.pem"], p.dir)).code).toBe(4);
    expect((await letheIn(["audit", "prove", "99999"], p.dir)).code).toBe(2);
  });

  it("exports the ledger as JSON lines and CSV with one entry per line, each batch entry followed by its items", async () => {
    const { p, size, state } = await ledgerProject();
    const db = new Database(state, { readonly: true });
    const items = (db.prepare("select count(*) as n from ledger_items").get() as { n: number }).n;
    db.close();
    // The run deleted 15 of the 30 rows (its run_finished entry says so): one item line each.
    expect(items).toBe(15);
    const jl = (await letheIn(["audit", "export", "--format", "jsonl"], p.dir)).stdout.trim().split("\n");
    expect(jl).toHaveLength(size + items);
    const lines = jl.map((l) => JSON.parse(l) as { seq: number; item?: number; data?: { items?: number } });
    expect(lines.filter((l) => l.item === undefined).map((l) => l.seq)).toEqual(
      Array.from({ length: size }, (_, i) => i + 1),
    );
    expect(lines.filter((l) => l.item !== undefined)).toHaveLength(items);
    expect(lines.reduce((n, l) => n + (l.item === undefined ? (l.data?.items ?? 0) : 0), 0)).toBe(items);
    const first = lines[0] as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(["seq", "at", "action", "prevHash", "hash"]));
    const csv = (await letheIn(["audit", "export", "--format", "csv"], p.dir)).stdout.trim().split("\n");
    expect(csv).toHaveLength(size + items + 1);
    expect(csv[0]).toBe(
      "seq,item,at,action,dataset,key,keyHash,keyTag,subjectHash,subjectTag,salt,reason,runId,data,prevHash,hash",
    );
  });
});

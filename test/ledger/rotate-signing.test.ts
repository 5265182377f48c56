import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, type TestContext } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { loadMasterKey } from "../../src/crypto/master-key.js";
import {
  type Checkpoint,
  checkpointMessage,
  privateKeyFromDer,
  publicKeyId,
  signBytes,
} from "../../src/ledger/signing.js";
import { openLethe } from "../../src/lethe.js";
import { openState } from "../../src/state/open-state.js";
import { getOrCreateSecret } from "../../src/state/secret-store.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject, type Project } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

async function project(ctx: TestContext, backend: "sqlite" | "pg"): Promise<Project> {
  const p = makeProject({ safety: 1 });
  if (backend === "pg") {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const yaml = readFileSync(join(p.dir, "lethe.yaml"), "utf8").replace("state: ./.lethe", `state: ${db.url}`);
    writeFileSync(join(p.dir, "lethe.yaml"), yaml);
  }
  return p;
}

async function ok(args: string[], dir: string): Promise<string> {
  const r = await letheIn(args, dir);
  expect(r.code, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

const readJson = <T>(dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), "utf8")) as T;

/** The current signing key's private half, as lethe keeps it (wrapped by the master key). */
async function currentSigningKey(dir: string) {
  const config = loadConfigFile(join(dir, "lethe.yaml"));
  const state = await openState(config.state);
  try {
    const der = await getOrCreateSecret(
      state,
      loadMasterKey(config, () => {}),
      "ledger-signing",
      () => {
        throw new Error("no signing key yet");
      },
    );
    return privateKeyFromDer(der);
  } finally {
    await state.close();
  }
}

describe.each(["sqlite", "pg"] as const)("signing key rotation (%s state)", (backend) => {
  it("new checkpoints name the new key; checkpoints, proofs and the ledger signed before still verify, online and offline", async (ctx) => {
    const p = await project(ctx, backend);
    await ok(["apply", "--force"], p.dir);
    await ok(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir);
    await ok(["audit", "checkpoint", "--out", "cp-old.json"], p.dir);
    await ok(["audit", "prove", "2", "--out", "proof-old.json"], p.dir);
    writeFileSync(join(p.dir, "old.pem"), await ok(["audit", "public-key"], p.dir));
    const oldPriv = await currentSigningKey(p.dir);
    // A process that started before the rotation keeps the old key in memory.
    const stale = await openLethe(join(p.dir, "lethe.yaml"), { stores: "none" });

    const r = await letheIn(["keys", "rotate-signing", "--json"], p.dir);
    expect(r.code, r.stderr).toBe(0);
    const rot = r.json as { from: string; to: string; seq: number; retiredAfter: number };
    const cpOld = readJson<Checkpoint>(p.dir, "cp-old.json");
    expect(cpOld.keyId).toBe(rot.from);
    expect(rot.to).not.toBe(rot.from);
    expect(rot.retiredAfter).toBe(rot.seq - 1);

    // Recorded on the ledger by key ids; the stale process may no longer sign.
    const exported = (await ok(["audit", "export"], p.dir))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; action: string; data?: unknown });
    expect(exported.find((e) => e.action === "key_rotated")).toMatchObject({
      seq: rot.seq,
      data: { key: "signing", from: rot.from, to: rot.to },
    });
    await ok(["hold", "add", "--subject", "user-2", "--reason", "case 8"], p.dir);
    await expect(stale.audit.checkpoint()).rejects.toMatchObject({ code: "CONFLICT" });
    await stale.close();

    // New checkpoints are signed by the new key and say so.
    await ok(["audit", "checkpoint", "--out", "cp-new.json"], p.dir);
    const cpNew = readJson<Checkpoint>(p.dir, "cp-new.json");
    expect(cpNew.keyId).toBe(rot.to);
    writeFileSync(join(p.dir, "new.pem"), await ok(["audit", "public-key"], p.dir));
    expect(publicKeyId(readFileSync(join(p.dir, "new.pem"), "utf8"))).toBe(rot.to);
    await ok(["audit", "prove", String(rot.seq + 1), "--out", "proof-new.json"], p.dir);

    // Online: the whole ledger (checkpoints by both keys) and the older exported checkpoint verify.
    await ok(["audit", "verify"], p.dir);
    await ok(["audit", "verify", "--checkpoint", "cp-old.json"], p.dir);
    await ok(["audit", "verify", "--checkpoint", "cp-new.json"], p.dir);

    // Offline: the old proof with the old key, or with the bundle of every key; not with the new key alone.
    writeFileSync(join(p.dir, "all.pem"), await ok(["audit", "public-key", "--all"], p.dir));
    expect((await letheIn(["audit", "verify-proof", "proof-old.json", "--public-key", "old.pem"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify-proof", "proof-old.json", "--public-key", "all.pem"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify-proof", "proof-old.json", "--public-key", "new.pem"], p.dir)).code).toBe(4);
    const vNew = await letheIn(["audit", "verify-proof", "proof-new.json", "--public-key", "all.pem"], p.dir);
    expect(vNew.code, vNew.stdout).toBe(0);
    expect(vNew.stdout).toContain(`by key ${rot.to.slice(0, 16)}`);
    const keys = (await letheIn(["keys", "list", "--json"], p.dir)).json as {
      signing: { keyId: string; status: string }[];
    };
    expect(keys.signing.map((k) => [k.keyId, k.status])).toEqual([
      [rot.from, "retired"],
      [rot.to, "current"],
    ]);

    // The retired key (say it leaked) cannot vouch for anything written after its rotation.
    const body = { size: cpNew.size, root: cpNew.root, at: new Date().toISOString() };
    const forged = { ...body, signature: signBytes(oldPriv, checkpointMessage(body)), keyId: rot.from };
    writeFileSync(join(p.dir, "forged.json"), JSON.stringify(forged));
    const f = await letheIn(["audit", "verify", "--checkpoint", "forged.json"], p.dir);
    expect(f.code).toBe(4);
    expect(f.stdout).toContain("retired at ledger size");
  }, 240_000);

  it("a signing key planted in the state without the master key is not trusted", async (ctx) => {
    const p = await project(ctx, backend);
    await ok(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir);
    await ok(["audit", "checkpoint", "--out", "cp.json"], p.dir);
    const cp = readJson<Checkpoint>(p.dir, "cp.json");
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    const config = loadConfigFile(join(p.dir, "lethe.yaml"));
    const state = await openState(config.state);
    try {
      await state.db
        .insertInto("signing_keys")
        .values({
          key_id: publicKeyId(pem),
          public_key: pem,
          created_at: new Date().toISOString(),
          retired_at: null,
          retired_after: null,
          mac: "0".repeat(64),
        })
        .execute();
    } finally {
      await state.close();
    }
    const body = { size: cp.size, root: cp.root, at: new Date().toISOString() };
    const planted = { ...body, signature: signBytes(privateKey, checkpointMessage(body)), keyId: publicKeyId(pem) };
    writeFileSync(join(p.dir, "planted.json"), JSON.stringify(planted));
    const r = await letheIn(["audit", "verify", "--checkpoint", "planted.json"], p.dir);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain("not among the ledger's signing keys");
    await ok(["audit", "verify", "--checkpoint", "cp.json"], p.dir);
  }, 120_000);
});

describe("key rotation while lethe serves", () => {
  it("refuses (exit 3, nothing rotated) while a serve instance holds the leader lease", async () => {
    const p = makeProject({ safety: 1 });
    await ok(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir);
    const state = await openState(loadConfigFile(join(p.dir, "lethe.yaml")).state);
    try {
      await state.db
        .insertInto("leader_lease")
        .values({
          name: "scheduler",
          holder: "other-host:123",
          epoch: 1,
          expires_at: Date.now() + 600_000,
          acquired_at: new Date().toISOString(),
        })
        .execute();
    } finally {
      await state.close();
    }
    writeFileSync(join(p.dir, "k2.key"), "ab".repeat(32));
    for (const args of [
      ["keys", "rotate-signing"],
      ["keys", "rotate-master", "--new-key-file", "k2.key"],
    ]) {
      const r = await letheIn(args, p.dir);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain("stop every lethe process");
    }
    const keys = (await letheIn(["keys", "list", "--json"], p.dir)).json as { signing: unknown[] };
    expect(keys.signing).toHaveLength(1);
    expect(await ok(["audit", "export"], p.dir)).not.toContain("key_rotated");
  }, 120_000);
});

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, type TestContext } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheAsync, letheIn } from "../helpers/cli.js";
import { makeProject, type Project } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

type Backend = "sqlite" | "pg";

/**
 * A project whose state is on SQLite (master key generated into .lethe/master.key, which rotation replaces)
 * or on PostgreSQL (master key configured as file:./k1.key, which the operator repoints).
 */
async function project(ctx: TestContext, backend: Backend): Promise<Project & { keyFile: string }> {
  if (backend === "sqlite") {
    const p = makeProject({ safety: 1 });
    return { ...p, keyFile: join(p.dir, ".lethe", "master.key") };
  }
  requireService(ctx, "pg");
  const db = await createTestPgDatabase();
  drops.push(db.drop);
  const p = makeProject({ safety: 1, extraYaml: "secrets:\n  masterKey: file:./k1.key\n" });
  writeFileSync(join(p.dir, "k1.key"), randomBytes(32).toString("hex"));
  const yaml = readFileSync(join(p.dir, "lethe.yaml"), "utf8").replace("state: ./.lethe", `state: ${db.url}`);
  writeFileSync(join(p.dir, "lethe.yaml"), yaml);
  return { ...p, keyFile: join(p.dir, "k1.key") };
}

/** After a rotation: where the configured key lives, point it at the new key (SQLite: lethe did it already). */
function useNewKey(p: Project & { keyFile: string }, backend: Backend): void {
  if (backend === "pg") writeFileSync(p.keyFile, readFileSync(join(p.dir, "k2.key")));
}

/**
 * Encrypts one secret per subject with the key ring (per-subject data keys wrapped by the master key), eight
 * subjects at a time (the key ring serves concurrent writers; on PostgreSQL the round trips overlap).
 */
async function sealFor(dir: string, subjects: string[]): Promise<Map<string, Buffer>> {
  const l = await openLethe(join(dir, "lethe.yaml"), { stores: "none", logger: { warn: () => {}, info: () => {} } });
  try {
    const out = new Map<string, Buffer>();
    for (let i = 0; i < subjects.length; i += 8)
      await Promise.all(
        subjects.slice(i, i + 8).map(async (s) => out.set(s, await l.keys.encrypt(s, `scan of ${s}`, "uploads"))),
      );
    return out;
  } finally {
    await l.close();
  }
}

async function withLethe<T>(dir: string, fn: (l: Awaited<ReturnType<typeof openLethe>>) => Promise<T>): Promise<T> {
  const l = await openLethe(join(dir, "lethe.yaml"), { stores: "none", logger: { warn: () => {}, info: () => {} } });
  try {
    return await fn(l);
  } finally {
    await l.close();
  }
}

interface Entry {
  seq: number;
  action: string;
  data?: { key?: string; from?: string; to?: string };
}
async function entries(dir: string): Promise<Entry[]> {
  const r = await letheIn(["audit", "export"], dir);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Entry);
}

describe.each(["sqlite", "pg"] as const)("master key rotation (%s state)", (backend) => {
  it("re-wraps every key and re-keys the head in one step; old data keys still decrypt and shred, subject lookups still find old entries, the old key is refused by name", async (ctx) => {
    const p = await project(ctx, backend);
    expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
    expect((await letheIn(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir)).code).toBe(0);
    const sealed = await sealFor(p.dir, ["user-1", "user-2", "user-3"]);
    const oldKey = readFileSync(p.keyFile, "utf8");
    const before = await entries(p.dir);
    writeFileSync(join(p.dir, "k2.key"), randomBytes(32).toString("hex"));
    // A process that started before the rotation still holds the old key.
    const stale = await openLethe(join(p.dir, "lethe.yaml"), {
      stores: "none",
      logger: { warn: () => {}, info: () => {} },
    });

    const r = await letheIn(["keys", "rotate-master", "--new-key-file", "k2.key", "--json"], p.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json as {
      from: string;
      to: string;
      seq: number;
      rewrapped: { secrets: number; subjectKeys: number };
    };
    expect(out.from).toMatch(/^[0-9a-f]{16}$/);
    expect(out.to).not.toBe(out.from);
    expect(out.rewrapped.subjectKeys).toBe(3);
    expect(out.rewrapped.secrets).toBeGreaterThanOrEqual(2);
    useNewKey(p, backend);
    // It can no longer append (fails closed, nothing written) and is told to restart.
    await expect(stale.holds.add({ subject: "user-9", reason: "late" })).rejects.toThrow(/master-key rotation/);
    await stale.close();

    // The rotation is on the ledger, named by fingerprints; no key material anywhere in it.
    const after = await entries(p.dir);
    const rot = after.filter((e) => e.action === "key_rotated");
    expect(rot).toEqual([
      expect.objectContaining({ seq: out.seq, data: { key: "master", from: out.from, to: out.to } }),
    ]);
    const exported = (await letheIn(["audit", "export"], p.dir)).stdout;
    expect(exported).not.toContain(oldKey.trim());
    expect(exported).not.toContain(readFileSync(join(p.dir, "k2.key"), "utf8").trim());
    expect(after.slice(0, before.length)).toEqual(before);

    // The new key opens everything: the chain verifies, appends work, old subject tags still match.
    expect((await letheIn(["audit", "verify"], p.dir)).code).toBe(0);
    expect((await letheIn(["hold", "add", "--subject", "user-2", "--reason", "case 8"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify"], p.dir)).code).toBe(0);
    const log = (await letheIn(["audit", "log", "--subject", "user-1", "--json"], p.dir)).json as { entries: Entry[] };
    expect(log.entries.map((e) => e.action)).toContain("hold_added");
    await withLethe(p.dir, async (l) => {
      expect((await l.keys.decrypt("user-1", sealed.get("user-1")!, "uploads")).toString()).toBe("scan of user-1");
      expect((await l.keys.decrypt("user-3", sealed.get("user-3")!, "uploads")).toString()).toBe("scan of user-3");
      // A fresh encryption under the re-wrapped key and a shred both work.
      const fresh = await l.keys.encrypt("user-2", "new scan", "uploads");
      expect((await l.keys.decrypt("user-2", fresh, "uploads")).toString()).toBe("new scan");
      expect((await l.keys.destroy("user-3")).destroyed).toBe(1);
      await expect(l.keys.decrypt("user-3", sealed.get("user-3")!, "uploads")).rejects.toMatchObject({
        code: "CRYPTO_ERROR",
      });
    });
    expect((await letheIn(["audit", "verify"], p.dir)).code).toBe(0);

    // The old key opens nothing and says why, with both fingerprints (never a key).
    writeFileSync(p.keyFile, oldKey);
    const old = await letheIn(["hold", "list"], p.dir);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("secrets.masterKey");
    expect(old.stderr).toContain(`fingerprint ${out.from}`);
    expect(old.stderr).toContain(`wrapped by master key ${out.to}`);
    expect(old.stderr).not.toContain(oldKey.trim());
  }, 360_000);

  it("killed mid-rotation, the state is whole under the old key or the new one, and running it again finishes", async (ctx) => {
    const p = await project(ctx, backend);
    expect((await letheIn(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir)).code).toBe(0);
    // Enough subject keys that re-wrapping them takes a while: the kill lands inside the transaction.
    const subjects = Array.from({ length: 2000 }, (_, i) => `subject-${i}`);
    const sealed = await sealFor(p.dir, subjects);
    const oldKey = readFileSync(p.keyFile, "utf8");
    writeFileSync(join(p.dir, "k2.key"), randomBytes(32).toString("hex"));

    const child = letheAsync(["keys", "rotate-master", "--new-key-file", "k2.key"], p.dir);
    await new Promise<void>((resolve) => {
      let err = "";
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/re-wrapped \d+ subject keys/.test(err)) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });

    // Either the old key still opens the state (rolled back) or the new one does (committed): never neither.
    const withOld = await letheIn(["audit", "verify"], p.dir);
    writeFileSync(p.keyFile, readFileSync(join(p.dir, "k2.key")));
    const withNew = await letheIn(["audit", "verify"], p.dir);
    writeFileSync(p.keyFile, oldKey);
    expect([withOld.code, withNew.code].filter((c) => c === 0)).toHaveLength(1);

    // Run again with the same new key file: it finishes whichever way the kill fell.
    const again = await letheIn(["keys", "rotate-master", "--new-key-file", "k2.key", "--json"], p.dir);
    expect(again.code, again.stderr).toBe(0);
    useNewKey(p, backend);
    expect((await letheIn(["audit", "verify"], p.dir)).code).toBe(0);
    expect((await entries(p.dir)).filter((e) => e.action === "key_rotated")).toHaveLength(1);
    await withLethe(p.dir, async (l) => {
      for (const s of [subjects[0]!, subjects[1000]!, subjects[1999]!])
        expect((await l.keys.decrypt(s, sealed.get(s)!, "uploads")).toString()).toBe(`scan of ${s}`);
    });
  }, 420_000);

  it("killed after the commit but before the key was replaced: the old key is refused and a rerun finishes without a second rotation", async (ctx) => {
    const p = await project(ctx, backend);
    expect((await letheIn(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir)).code).toBe(0);
    const oldKey = readFileSync(p.keyFile, "utf8");
    writeFileSync(join(p.dir, "k2.key"), randomBytes(32).toString("hex"));
    expect((await letheIn(["keys", "rotate-master", "--new-key-file", "k2.key"], p.dir)).code).toBe(0);
    // What such a kill leaves: the state wrapped by the new key, the old key still where lethe reads it.
    writeFileSync(p.keyFile, oldKey);
    expect((await letheIn(["hold", "list"], p.dir)).code).toBe(2);
    const again = await letheIn(["keys", "rotate-master", "--new-key-file", "k2.key", "--json"], p.dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ alreadyRotated: true });
    useNewKey(p, backend);
    expect((await letheIn(["audit", "verify"], p.dir)).code).toBe(0);
    expect((await entries(p.dir)).filter((e) => e.action === "key_rotated")).toHaveLength(1);
    // Once more changes nothing (no second entry); a key file that cannot be read is a usage error.
    expect((await letheIn(["keys", "rotate-master", "--new-key-file", "k2.key"], p.dir)).code).toBe(0);
    expect((await entries(p.dir)).filter((e) => e.action === "key_rotated")).toHaveLength(1);
    expect((await letheIn(["keys", "rotate-master", "--new-key-file", "nope.key"], p.dir)).code).toBe(2);
  }, 360_000);
});

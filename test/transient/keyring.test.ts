import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { open } from "../../src/crypto/aead.js";
import type { Lethe } from "../../src/lethe.js";
import { createLogsTable } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { makeTransientProject } from "./helpers.js";

const MASTER = Buffer.from("a".repeat(64), "hex");
// Offsets in a key-ring ciphertext: header(6) ‖ aead version(1) ‖ nonce(12) ‖ tag(16) ‖ body.
const NONCE_AT = 7;
const TAG_AT = 19;
const BODY_AT = 35;

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe.each(["sqlite", "postgres"] as const)("key ring (%s state)", (kind) => {
  let pg: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    if (kind === "postgres" && process.env.LETHE_TEST_PG_URL) pg = await createTestPgDatabase();
  });
  afterAll(async () => {
    await pg?.drop();
  });

  async function openRing(ctx: TestContext, opts: { maxUses?: number } = {}): Promise<Lethe> {
    if (kind === "postgres") requireService(ctx, "pg");
    const p = makeTransientProject(kind === "postgres" && pg ? { state: pg.url } : {});
    return p.open({ keyring: opts });
  }

  it("round-trips, and every tampering or move fails with CRYPTO_ERROR", async (ctx) => {
    const lethe = await openRing(ctx);
    try {
      const aad = Buffer.from("uploads/scan-1.dcm");
      const ct = await lethe.keys.encrypt("user-42", Buffer.from("the scan of user 42"), aad);
      expect((await lethe.keys.decrypt("user-42", ct, aad)).toString()).toBe("the scan of user 42");
      expect(ct.length).toBe(BODY_AT + "the scan of user 42".length);

      expect(await code(lethe.keys.decrypt("user-42", flip(ct, BODY_AT + 3), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", flip(ct, NONCE_AT + 5), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", flip(ct, TAG_AT + 15), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", flip(ct, 5), aad))).toBe("CRYPTO_ERROR"); // key version
      expect(await code(lethe.keys.decrypt("user-42", ct, Buffer.from("uploads/scan-2.dcm")))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", ct))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", ct.subarray(0, ct.length - 1), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", ct.subarray(0, BODY_AT), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", ct.subarray(0, 20), aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-42", Buffer.concat([ct, Buffer.from([0])]), aad))).toBe(
        "CRYPTO_ERROR",
      );

      // Moved to another subject: that subject has a key of the same version, still fails.
      await lethe.keys.encrypt("user-7", Buffer.from("other"), aad);
      expect(await code(lethe.keys.decrypt("user-7", ct, aad))).toBe("CRYPTO_ERROR");
      expect(await code(lethe.keys.decrypt("user-never-seen", ct, aad))).toBe("CRYPTO_ERROR");
      // The original is untouched by all of that.
      expect((await lethe.keys.decrypt("user-42", ct, aad)).toString()).toBe("the scan of user 42");
    } finally {
      await lethe.close();
    }
  });

  it("uses 96-bit random nonces: the same plaintext never encrypts the same way", async (ctx) => {
    const lethe = await openRing(ctx);
    try {
      const a = await lethe.keys.encrypt("user-1", "same");
      const b = await lethe.keys.encrypt("user-1", "same");
      expect(a.subarray(NONCE_AT, TAG_AT).equals(b.subarray(NONCE_AT, TAG_AT))).toBe(false);
      expect(a.subarray(BODY_AT).equals(b.subarray(BODY_AT))).toBe(false);
    } finally {
      await lethe.close();
    }
  });

  it("counts uses per key and rotates to a new version when the limit is reached", async (ctx) => {
    const lethe = await openRing(ctx, { maxUses: 3 });
    try {
      const cts: Buffer[] = [];
      for (let i = 0; i < 7; i++) cts.push(await lethe.keys.encrypt("user-r", `msg ${i}`));
      expect(cts.map((c) => c.readUInt32BE(2))).toEqual([1, 1, 1, 2, 2, 2, 3]);
      expect((await lethe.keys.info("user-r")).map((k) => [k.version, k.uses])).toEqual([
        [1, 3],
        [2, 3],
        [3, 1],
      ]);
      for (const [i, c] of cts.entries()) expect((await lethe.keys.decrypt("user-r", c)).toString()).toBe(`msg ${i}`);
    } finally {
      await lethe.close();
    }
  });

  it("never exceeds the use limit under concurrent encryption", async (ctx) => {
    const lethe = await openRing(ctx, { maxUses: 5 });
    try {
      const cts = await Promise.all(Array.from({ length: 100 }, (_, i) => lethe.keys.encrypt("user-c", `m${i}`)));
      const info = await lethe.keys.info("user-c");
      for (const k of info) expect(k.uses).toBeLessThanOrEqual(5);
      expect(info.reduce((n, k) => n + k.uses, 0)).toBe(100);
      const perVersion = new Map<number, number>();
      for (const c of cts) perVersion.set(c.readUInt32BE(2), (perVersion.get(c.readUInt32BE(2)) ?? 0) + 1);
      for (const n of perVersion.values()) expect(n).toBeLessThanOrEqual(5);
      for (const [i, c] of cts.entries()) expect((await lethe.keys.decrypt("user-c", c)).toString()).toBe(`m${i}`);
    } finally {
      await lethe.close();
    }
  });

  it("destroy: decrypt fails afterwards, the destruction is on the ledger, a later encrypt gets a fresh version", async (ctx) => {
    const lethe = await openRing(ctx);
    try {
      const ct = await lethe.keys.encrypt("user-d", "bye");
      const other = await lethe.keys.encrypt("user-keep", "stay");
      expect(await lethe.keys.destroy("user-d")).toEqual({ destroyed: 1 });
      expect(await code(lethe.keys.decrypt("user-d", ct))).toBe("CRYPTO_ERROR");
      expect((await lethe.keys.decrypt("user-keep", other)).toString()).toBe("stay");
      const log = await lethe.audit.log({ subject: "user-d" });
      expect(log.filter((e) => e.action === "key_destroyed")).toHaveLength(1);
      expect(JSON.stringify(log)).not.toContain("user-d");
      expect(await lethe.keys.destroy("user-d")).toEqual({ destroyed: 0 });
      const again = await lethe.keys.encrypt("user-d", "new life");
      expect(again.readUInt32BE(2)).toBe(2);
      expect((await lethe.keys.decrypt("user-d", again)).toString()).toBe("new life");
      expect(await code(lethe.keys.decrypt("user-d", ct))).toBe("CRYPTO_ERROR");
      expect((await lethe.audit.verify()).ok).toBe(true);
    } finally {
      await lethe.close();
    }
  });
});

describe("key destruction leaves no key bytes in the SQLite state files", () => {
  it("byte scan of state.db, -wal and -shm finds neither the wrapped nor the raw key", async () => {
    const p = makeTransientProject();
    const lethe = await p.open();
    const subjects = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    for (const s of subjects) await lethe.keys.encrypt(s, `data of ${s}`);
    const sh = lethe.ledger.subjectHash("user-13");
    const row = await lethe.state.db
      .selectFrom("subject_keys")
      .select(["wrapped", "version"])
      .where("subject_hash", "=", sh)
      .executeTakeFirstOrThrow();
    const wrappedBin = Buffer.from(row.wrapped, "base64");
    const raw = open(MASTER, wrappedBin, Buffer.from(`lethe-keyring-wrap/v1\0${sh}\0${row.version}`));
    expect(raw.length).toBe(32);
    const needles = [
      Buffer.from(row.wrapped),
      wrappedBin.subarray(13),
      raw,
      Buffer.from(raw.toString("hex")),
      Buffer.from(raw.toString("base64")),
    ];
    const stateDir = join(p.dir, ".lethe");
    const files = () => ["state.db", "state.db-wal", "state.db-shm"].map((f) => join(stateDir, f)).filter(existsSync);
    const scan = () => files().filter((f) => needles.some((n) => readFileSync(f).includes(n)));

    // The scan can see the wrapped key while it exists (so it is able to fail).
    await lethe.state.dialect.scrub(lethe.state.db);
    expect(scan().length).toBeGreaterThan(0);

    const ct = await lethe.keys.encrypt("user-13", "more");
    expect(await lethe.keys.destroy("user-13")).toEqual({ destroyed: 1 });
    expect(scan()).toEqual([]);
    await expect(lethe.keys.decrypt("user-13", ct)).rejects.toMatchObject({ code: "CRYPTO_ERROR" });
    // Other subjects' keys are still there and work.
    expect((await lethe.keys.decrypt("user-12", await lethe.keys.encrypt("user-12", "ok"))).toString()).toBe("ok");
    await lethe.close();
    expect(scan()).toEqual([]);
    const db = new Database(join(stateDir, "state.db"), { readonly: true });
    expect(db.prepare("select count(*) as n from subject_keys where subject_hash = ?").get(sh)).toEqual({ n: 0 });
    db.close();
  });
});

describe("erasure destroys the subject's keys", () => {
  it("lethe.erase(subject, { yes }) runs the key ring's onSubjectErased hook", async () => {
    const p = makeTransientProject({
      extra: { stores: { files: { kind: "fs", root: "./data" }, app: { kind: "sql", url: "sqlite:./app.db" } } },
      datasets: {
        uploads: { store: "files", include: ["uploads/**"], retention: "1h" },
        logs: { store: "app", table: "logs", key: "id", subject: "user_id", createdAt: "created_at", retention: "30d" },
      },
    });
    createLogsTable(join(p.dir, "app.db"));
    const db = new Database(join(p.dir, "app.db"));
    db.prepare("insert into logs (id, user_id, created_at) values (1, 'user-e', ?), (2, 'user-f', ?)").run(
      new Date().toISOString(),
      new Date().toISOString(),
    );
    db.close();
    const lethe = await p.open();
    try {
      const ct = await lethe.keys.encrypt("user-e", "backup copy");
      const keep = await lethe.keys.encrypt("user-f", "not erased");
      const r = await lethe.erase("user-e", { yes: true });
      expect(r.actions).toEqual([{ action: "key_destroyed", detail: "1 key version(s)" }]);
      await expect(lethe.keys.decrypt("user-e", ct)).rejects.toMatchObject({ code: "CRYPTO_ERROR" });
      expect((await lethe.keys.decrypt("user-f", keep)).toString()).toBe("not erased");
      const destroyed = (await lethe.audit.log({ subject: "user-e" })).filter((e) => e.action === "key_destroyed");
      expect(destroyed).toHaveLength(1);
      expect(destroyed[0]?.reason).toBe("erasure");
    } finally {
      await lethe.close();
    }
  });
});

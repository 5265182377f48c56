import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { planContentHash } from "../../src/core/planner.js";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { createLogsTable, DAY_MS, ts } from "../helpers/project.js";

const quiet = { warn: () => undefined, info: () => undefined };
let opened: Lethe[] = [];
afterEach(async () => {
  for (const l of opened) await l.close().catch(() => undefined);
  opened = [];
});

/** An uploads tree with one file per subject (users/{subject}/b.bin, 40 days old) and a SQLite logs table. */
function project(): { dir: string; data: string; file: (s: string) => string; open: () => Promise<Lethe> } {
  const dir = tempDir();
  const data = join(dir, "data");
  const old = new Date(Date.now() - 40 * DAY_MS);
  for (const s of ["alice", "bob", "jos\u00e9"]) {
    mkdirSync(join(data, "users", s), { recursive: true });
    writeFileSync(join(data, "users", s, "b.bin"), `scan of ${s}`);
    utimesSync(join(data, "users", s, "b.bin"), old, old);
  }
  createLogsTable(join(dir, "app.db"));
  const db = new Database(join(dir, "app.db"));
  db.prepare("insert into logs values (?, ?, ?, ?)").run(1, "alice", "prompt", ts(old));
  db.prepare("insert into logs values (?, ?, ?, ?)").run(2, "bob", "prompt", ts(old));
  db.close();
  const configPath = writeConfig(
    dir,
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  files: { kind: fs, root: ./data }
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  uploads: { store: files, include: ["users/**"], subjectFromPath: "users/{subject}/**", retention: 30d, events: true }
  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d, events: true }
`,
  );
  return {
    dir,
    data,
    file: (s) => join(data, "users", s, "b.bin"),
    open: async () => {
      const l = await openLethe(configPath, { logger: quiet });
      opened.push(l);
      return l;
    },
  };
}

const ODD_SPELLINGS = [
  "users//alice/b.bin",
  "users/./alice/b.bin",
  "users/bob/../alice/b.bin",
  "./users/alice/b.bin",
  "/users/alice/b.bin",
  "users/alice/b.bin/",
  "users/alice//b.bin",
  "users/alice/b.bin\u0000",
  "users/alice/b.bin\n",
  "users/jose\u0301/b.bin", // NFD spelling of users/josé/b.bin
];

describe("canonical keys at every entry point (issue 10 item 2)", () => {
  it("an event naming a held subject's file by an odd spelling is refused (VALIDATION) and deletes nothing", async () => {
    const p = project();
    const lethe = await p.open();
    await lethe.holds.add({ subject: "alice", reason: "litigation" });
    for (const key of ODD_SPELLINGS) {
      const at = lethe.complete({ requestId: `r-${key}`, artifacts: [{ dataset: "uploads", key }] });
      await expect(at, JSON.stringify(key)).rejects.toMatchObject({ code: "VALIDATION" });
      await expect(at).rejects.toThrow(/artifacts\.0\.key: the key .*canonical/);
    }
    // The error never echoes the key (it may carry a subject id).
    const err = await lethe
      .complete({ requestId: "r-x", artifacts: [{ dataset: "uploads", key: "users//alice/b.bin" }] })
      .catch((e: Error) => e);
    expect(String((err as Error).message)).not.toContain("alice");
    expect(existsSync(p.file("alice"))).toBe(true);
    expect(existsSync(p.file("jos\u00e9"))).toBe(true);
    expect(await lethe.events.depth()).toMatchObject({ pending: 0, done: 0, failed: 0 });
  });

  it("the canonical spelling is held, and the audit finds it by subject and by key", async () => {
    const p = project();
    const lethe = await p.open();
    await lethe.holds.add({ subject: "alice", reason: "litigation" });
    const r = await lethe.complete({
      requestId: "req-1",
      artifacts: [
        { dataset: "uploads", key: "users/alice/b.bin" },
        { dataset: "uploads", key: "users/bob/b.bin" },
      ],
    });
    expect(r.result?.datasets[0]).toMatchObject({ deleted: 1, held: 1, failed: 0 });
    expect(existsSync(p.file("alice"))).toBe(true);
    expect(existsSync(p.file("bob"))).toBe(false);
    const bySubject = await lethe.audit.log({ subject: "alice" });
    expect(bySubject.some((e) => e.action === "held" && e.dataset === "uploads")).toBe(true);
    const byKey = await lethe.audit.log({ dataset: "uploads", key: "users/alice/b.bin" });
    expect(byKey.map((e) => e.action)).toContain("held");
  });

  it("an event for a SQL row is held by the subject the row records, whatever key spelling names it", async () => {
    const p = project();
    const lethe = await p.open();
    await lethe.holds.add({ subject: "alice", reason: "litigation" });
    const r = await lethe.complete({
      requestId: "req-sql",
      artifacts: [
        { dataset: "logs", key: 1 },
        { dataset: "logs", key: "1" },
        { dataset: "logs", key: 2 },
      ],
    });
    expect(r.result?.datasets[0]).toMatchObject({ held: 1, deleted: 1, failed: 0 });
    const db = new Database(join(p.dir, "app.db"), { readonly: true });
    expect(db.prepare("select id from logs order by id").all()).toEqual([{ id: 1 }]);
    db.close();
    // Recorded under the row's own key and subject, so the audit of subject alice shows the hold.
    expect((await lethe.audit.log({ subject: "alice" })).some((e) => e.action === "held" && e.dataset === "logs")).toBe(
      true,
    );
    expect((await lethe.audit.log({ subject: "bob" })).some((e) => e.action === "deleted")).toBe(true);
  });

  it("an NFD-named folder found by a scan is left alone and reported, not deleted past an NFC hold", async () => {
    const p = project();
    const nfd = "jose\u0301";
    mkdirSync(join(p.data, "users", nfd), { recursive: true });
    writeFileSync(join(p.data, "users", nfd, "b.bin"), "x");
    const old = new Date(Date.now() - 40 * DAY_MS);
    utimesSync(join(p.data, "users", nfd, "b.bin"), old, old);
    const lethe = await p.open();
    await lethe.holds.add({ subject: "jos\u00e9", reason: "litigation" });
    const r = await lethe.apply({ dataset: "uploads" });
    const d = r.datasets[0];
    expect(d).toMatchObject({ failed: 1, held: 1, deleted: 2 });
    expect(d?.failures[0]?.reason).toMatch(/^NOT_CANONICAL: the key is not in Unicode NFC form/);
    expect(existsSync(join(p.data, "users", nfd, "b.bin"))).toBe(true);
    expect(existsSync(p.file("jos\u00e9"))).toBe(true);
  });

  it("a plan file edited to carry an odd spelling is refused before the first delete", async () => {
    const p = project();
    const out = join(p.dir, "plan.json");
    expect((await letheIn(["plan", "--out", out], p.dir)).code).toBe(0);
    const plan = JSON.parse(readFileSync(out, "utf8"));
    const uploads = plan.datasets.find((d: { name: string }) => d.name === "uploads");
    uploads.items = uploads.items.map((k: string) => k.replace("users/alice/", "users//alice/"));
    plan.contentHash = planContentHash(plan); // an editor can recompute the plain content hash
    writeFileSync(out, JSON.stringify(plan));
    const r = await letheIn(["apply", "--plan", out], p.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan: datasets\.uploads\.items\.\d+: the key has an empty path segment/);
    expect(existsSync(p.file("alice"))).toBe(true);
    expect(existsSync(p.file("bob"))).toBe(true);
    const db = new Database(join(p.dir, "app.db"), { readonly: true });
    expect((db.prepare("select count(*) as n from logs").get() as { n: number }).n).toBe(2);
    db.close();
  });

  it("subject ids for holds, erasure and requests are refused unless canonical", async () => {
    const p = project();
    // The last: 513 characters, one more than the HTTP API accepts (one limit everywhere).
    for (const bad of [" alice", "alice ", "jose\u0301", "al\u0000ice", "al\nice", "a".repeat(513)]) {
      for (const args of [
        ["hold", "add", "--subject", bad, "--reason", "x"],
        ["erase", bad, "--yes"],
        ["requests", "create", bad],
      ]) {
        const r = await letheIn(args, p.dir);
        expect(r.code, `${args[0]} ${JSON.stringify(bad)}`).toBe(2);
        expect(r.stderr).toMatch(/subject id .*canonical/);
      }
    }
    expect(existsSync(p.file("alice"))).toBe(true);
  });
});

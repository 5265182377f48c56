import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Lethe, OpenOptions } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { until } from "../helpers/wait.js";
import { makeTransientProject, type TransientProject } from "./helpers.js";
import { child, DIST } from "./process.js";

let opened: Lethe[] = [];
async function openP(p: TransientProject, o: OpenOptions = {}): Promise<Lethe> {
  const l = await p.open(o);
  opened.push(l);
  return l;
}
afterEach(async () => {
  for (const l of opened) await l.close().catch(() => undefined);
  opened = [];
});

function upload(p: TransientProject, name: string, body = "scan bytes"): string {
  const abs = join(p.data, "uploads", name);
  writeFileSync(abs, body);
  return `uploads/${name}`;
}

describe("lethe.complete", () => {
  it("deletes the listed artifacts at once and records each with the event as run", async () => {
    const p = makeTransientProject();
    const a = upload(p, "req-1-a.dcm");
    const b = upload(p, "req-1-b.dcm");
    const keep = upload(p, "req-2.dcm");
    const lethe = await openP(p);
    const r = await lethe.complete({
      requestId: "req-1",
      artifacts: [
        { dataset: "uploads", key: a },
        { dataset: "uploads", key: b },
        { dataset: "uploads", key: "uploads/never-existed" },
      ],
    });
    expect(r).toMatchObject({ status: "done", duplicate: false, attempts: 1, artifacts: 3 });
    expect(r.result?.datasets).toEqual([{ name: "uploads", requested: 3, deleted: 2, missing: 1, held: 0, failed: 0 }]);
    expect(existsSync(join(p.data, a))).toBe(false);
    expect(existsSync(join(p.data, b))).toBe(false);
    expect(existsSync(join(p.data, keep))).toBe(true);
    const log = await lethe.audit.log({ runId: r.id });
    expect(log.map((e) => e.action)).toEqual(["event_received", "deleted", "deleted"]);
    expect(
      log.filter((e) => e.action === "deleted").every((e) => e.reason === "event" && e.dataset === "uploads"),
    ).toBe(true);
    expect((await lethe.audit.log({ dataset: "uploads", key: a })).map((e) => e.action)).toEqual(["deleted"]);
    expect(JSON.stringify(log)).not.toContain("req-1");
    expect(await lethe.events.depth()).toEqual({ pending: 0, processing: 0, done: 1, failed: 0 });
  });

  it("a link under an artifact's name is left alone and reported as failed, not as already gone", async () => {
    const p = makeTransientProject();
    const outside = join(p.dir, "outside.txt");
    writeFileSync(outside, "not lethe's");
    symlinkSync(outside, join(p.data, "uploads", "req-9.dcm"));
    const lethe = await openP(p, { events: { autoRetry: false } });
    const r = await lethe.complete({
      requestId: "req-9",
      artifacts: [{ dataset: "uploads", key: "uploads/req-9.dcm" }],
    });
    expect(r.status).not.toBe("done");
    expect(r.result?.datasets).toEqual([{ name: "uploads", requested: 1, deleted: 0, missing: 0, held: 0, failed: 1 }]);
    expect(lstatSync(join(p.data, "uploads", "req-9.dcm")).isSymbolicLink()).toBe(true);
    expect(existsSync(outside)).toBe(true);
  });

  it("is idempotent per request id; a different artifact list for the same id is a CONFLICT", async () => {
    const p = makeTransientProject();
    const a = upload(p, "x.bin");
    const lethe = await openP(p);
    const first = await lethe.complete({ requestId: "req-dup", artifacts: [{ dataset: "uploads", key: a }] });
    writeFileSync(join(p.data, a), "uploaded again later"); // must not be deleted by a replay
    const again = await lethe.complete({ requestId: "req-dup", artifacts: [{ dataset: "uploads", key: a }] });
    expect(again).toMatchObject({ id: first.id, duplicate: true, status: "done" });
    expect(existsSync(join(p.data, a))).toBe(true);
    const viaQueue = await lethe.events.enqueue({ requestId: "req-dup", artifacts: [{ dataset: "uploads", key: a }] });
    expect(viaQueue).toMatchObject({ id: first.id, duplicate: true });
    await expect(
      lethe.complete({ requestId: "req-dup", artifacts: [{ dataset: "uploads", key: "uploads/other" }] }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    const concurrent = await Promise.all(
      [1, 2, 3, 4].map(() => lethe.events.enqueue({ requestId: "req-par", artifacts: [] })),
    );
    expect(new Set(concurrent.map((c) => c.id)).size).toBe(1);
    expect(concurrent.filter((c) => !c.duplicate)).toHaveLength(1);
    const received = (await lethe.audit.log({})).filter((e) => e.action === "event_received");
    expect(received).toHaveLength(2);
  });

  it("respects holds: a held subject's artifact stays, is recorded as held, and the event still completes", async () => {
    const p = makeTransientProject({
      datasets: {
        uploads: {
          store: "files",
          include: ["uploads/**"],
          subjectFromPath: "uploads/{subject}/**",
          retention: "1h",
          events: true,
        },
      },
    });
    const { mkdirSync } = await import("node:fs");
    for (const s of ["alice", "bob"]) mkdirSync(join(p.data, "uploads", s));
    const a = upload(p, "alice/scan.dcm");
    const b = upload(p, "bob/scan.dcm");
    const lethe = await openP(p);
    await lethe.holds.add({ subject: "alice", reason: "litigation 7" });
    const r = await lethe.complete({
      requestId: "req-hold",
      artifacts: [a, b].map((key) => ({ dataset: "uploads", key })),
    });
    expect(r.status).toBe("done");
    expect(r.result?.datasets[0]).toMatchObject({ deleted: 1, held: 1, failed: 0 });
    expect(existsSync(join(p.data, a))).toBe(true);
    expect(existsSync(join(p.data, b))).toBe(false);
    const held = (await lethe.audit.log({ subject: "alice" })).filter((e) => e.action === "held");
    expect(held).toHaveLength(1);
    expect(held[0]?.reason).toContain("litigation 7");
  });

  it("validates before storing anything: unknown fields, unknown datasets, datasets with row-linked files", async () => {
    const p = makeTransientProject({
      extra: { stores: { files: { kind: "fs", root: "./data" }, app: { kind: "sql", url: "sqlite:./app.db" } } },
      datasets: {
        uploads: { store: "files", include: ["uploads/**"], retention: "1h", events: true },
        training: {
          store: "app",
          table: "training",
          key: "id",
          createdAt: "created_at",
          retention: "30d",
          files: { column: "path", store: "files" },
        },
      },
    });
    const db = new Database(join(p.dir, "app.db"));
    db.exec("create table training (id integer primary key, path text, created_at text not null)");
    db.close();
    const lethe = await openP(p);
    const bad = [
      { requestId: "r", artifacts: [{ dataset: "uploads", key: "k", extra: 1 }] },
      { requestId: "r", artifacts: [], priority: "high" },
      { requestId: "", artifacts: [] },
      { requestId: "r", artifacts: [{ dataset: "nope", key: "k" }] },
      { requestId: "r", artifacts: [{ dataset: "training", key: 1 }] },
      // Keys lethe would never delete: not matched by the globs, outside the root.
      { requestId: "r", artifacts: [{ dataset: "uploads", key: "config-jane@example.com.yaml" }] },
      { requestId: "r", artifacts: [{ dataset: "uploads", key: "../uploads/x" }] },
      { requestId: "r", artifacts: [{ dataset: "uploads", key: "uploads/../../x" }] },
      { requestId: "r", artifacts: [{ dataset: "uploads", key: "/etc/passwd" }] },
    ];
    for (const b of bad) await expect(lethe.events.enqueue(b)).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(
      lethe.events.enqueue({
        requestId: "r",
        artifacts: [{ dataset: "uploads", key: "config-jane@example.com.yaml" }],
      }),
    ).rejects.toThrow(/artifacts\.0\.key: not an item of dataset "uploads"(?!.*jane)/);
    expect(await lethe.events.depth()).toEqual({ pending: 0, processing: 0, done: 0, failed: 0 });
  });
});

const ENQUEUER = `
import { openLethe } from ${JSON.stringify(DIST)};
const [config, key] = process.argv.slice(1);
const lethe = await openLethe(config, { logger: { warn() {}, info() {} } });
const r = await lethe.events.enqueue({ requestId: "req-kill", artifacts: [{ dataset: "uploads", key }] });
process.stdout.write("ACK " + r.id + "\\n");
await new Promise(() => {});
`;

describe("durability", () => {
  it("an acknowledged event survives kill -9 and is processed after restart", async () => {
    const p = makeTransientProject();
    const key = upload(p, "kill.bin");
    const { proc, line, exited } = await child(ENQUEUER, [p.configPath, key], "ACK ");
    proc.kill("SIGKILL");
    await exited;
    const id = line.slice(4).trim();
    expect(existsSync(join(p.data, key))).toBe(true);
    const lethe = await openP(p);
    expect(await lethe.events.get(id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await lethe.events.process()).toEqual({ processed: 1, done: 1, retrying: 0, failed: 0 });
    expect(existsSync(join(p.data, key))).toBe(false);
    expect(await lethe.events.get(id)).toMatchObject({ status: "done" });
  });
});

describe("failed deletions", () => {
  it("are retried with growing backoff, end up failed, are reported by the janitor (exit 1) and fixed by --apply", async () => {
    const p = makeTransientProject({
      datasets: {
        uploads: { store: "files", include: ["uploads/**"], retention: "1h", action: "shred", events: true },
      },
    });
    const key = upload(p, "linked.bin");
    // A second hard link makes shred refuse the file: a real, persistent deletion failure.
    linkSync(join(p.data, key), join(p.data, "elsewhere.bin"));
    const lethe = await openP(p, { events: { baseDelayMs: 200, maxAttempts: 4 } });
    const first = await lethe.complete({ requestId: "req-fail", artifacts: [{ dataset: "uploads", key }] });
    expect(first).toMatchObject({ status: "pending", attempts: 1 });
    expect(first.lastError).toMatch(/hard links/);
    const final = await until(async () => {
      const e = await lethe.events.get(first.id);
      return e?.status === "failed" && e;
    });
    expect(final).toMatchObject({ status: "failed", attempts: 4 });
    const failures = (await lethe.audit.log({ runId: first.id })).filter((e) => e.action === "failed");
    expect(failures).toHaveLength(5); // one per attempt, plus "gave up"
    expect(failures[4]?.reason).toMatch(/gave up after 4 attempts/);
    const t = failures.slice(0, 4).map((e) => Date.parse(e.at));
    const gaps = [t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!];
    // Each wait is at least its backoff (200 ms doubling per attempt, jittered down to 75 %). Not "each gap
    // longer than the last": a gap also holds the time to run the attempt, which load can stretch by more
    // than the 100 ms between one backoff's ceiling and the next one's floor.
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(300);
    expect(gaps[2]).toBeGreaterThanOrEqual(600);
    await lethe.close();
    opened = [];

    const report = await letheIn(["janitor", "--json", "--config", p.configPath], p.dir);
    expect(report.code).toBe(1);
    expect((report.json as { findings: unknown[] }).findings).toEqual([
      expect.objectContaining({ kind: "event_failed", id: first.id }),
    ]);

    unlinkSync(join(p.data, "elsewhere.bin"));
    const fix = await letheIn(["janitor", "--apply", "--json", "--config", p.configPath], p.dir);
    expect(fix.code).toBe(1);
    expect((fix.json as { findings: unknown[] }).findings).toEqual([
      expect.objectContaining({ kind: "event_failed", fixed: true }),
    ]);
    expect(existsSync(join(p.data, key))).toBe(false);
    const clean = await letheIn(["janitor", "--json", "--config", p.configPath], p.dir);
    expect(clean.code).toBe(0);
  });
});

describe("refusals for what an artifact is (a link, a directory)", () => {
  const shredding = {
    datasets: { uploads: { store: "files", include: ["uploads/**"], retention: "1h", action: "shred", events: true } },
  };
  /** A link under an artifact's name and a file behind a linked directory (QA: 10 `failed` entries in 20 s). */
  function linked(p: TransientProject): string[] {
    mkdirSync(join(p.dir, "outside", "sub"), { recursive: true });
    writeFileSync(join(p.dir, "outside", "v.pt"), "not lethe's");
    writeFileSync(join(p.dir, "outside", "sub", "v2.pt"), "not lethe's either");
    symlinkSync(join(p.dir, "outside", "v.pt"), join(p.data, "uploads", "evil.pt"));
    symlinkSync(join(p.dir, "outside", "sub"), join(p.data, "uploads", "dirlink"));
    return ["uploads/evil.pt", "uploads/dirlink/v2.pt"];
  }

  it("are recorded once and not retried; the message says the directory is a link, not that it was replaced", async () => {
    const p = makeTransientProject(shredding);
    const [file, under] = linked(p);
    const lethe = await openP(p, { events: { baseDelayMs: 20, maxAttempts: 8 } });
    const r = await lethe.complete({
      requestId: "req-links",
      artifacts: [
        { dataset: "uploads", key: file as string },
        { dataset: "uploads", key: under as string },
      ],
    });
    expect(r).toMatchObject({ status: "failed", attempts: 1 });
    expect(r.result?.refused).toEqual([0, 1]);
    expect(await lethe.events.depth()).toMatchObject({ pending: 0, failed: 1 });
    const failed = (await lethe.audit.log({ runId: r.id })).filter((e) => e.action === "failed");
    expect(failed.map((e) => e.reason)).toEqual([
      "NOT_A_FILE: a symbolic link; not followed, left alone",
      "PATH_CHANGED: a directory on the path is a symbolic link; not followed",
      expect.stringMatching(/^event evt_\w+: not retried \(refused for what the items are\)/),
    ]);
    expect(JSON.stringify(failed)).not.toMatch(/was replaced|outside|dirlink/);
    expect(readFileSync(join(p.dir, "outside", "sub", "v2.pt"), "utf8")).toBe("not lethe's either");
  });

  it("beside a failure worth retrying: the retries skip the refused artifact, which stays recorded once", async () => {
    const p = makeTransientProject(shredding);
    const [file] = linked(p);
    const key = upload(p, "hardlinked.bin");
    // A second hard link makes shred refuse the file (REFUSED): a failure that may clear, so it is retried.
    linkSync(join(p.data, key), join(p.data, "elsewhere.bin"));
    const lethe = await openP(p, { events: { baseDelayMs: 20, maxAttempts: 3 } });
    const first = await lethe.complete({
      requestId: "req-mixed",
      artifacts: [
        { dataset: "uploads", key: file as string },
        { dataset: "uploads", key },
      ],
    });
    expect(first).toMatchObject({ status: "pending", attempts: 1 });
    const final = await until(async () => {
      const e = await lethe.events.get(first.id);
      return e?.status === "failed" && e;
    });
    expect(final).toMatchObject({ attempts: 3, result: { refused: [0] } });
    expect(final.result?.datasets).toEqual([
      { name: "uploads", requested: 2, deleted: 0, missing: 0, held: 0, failed: 2 },
    ]);
    const reasons = (await lethe.audit.log({ runId: first.id }))
      .filter((e) => e.action === "failed")
      .map((e) => e.reason);
    expect(reasons.filter((r) => r?.startsWith("NOT_A_FILE"))).toHaveLength(1);
    expect(reasons.filter((r) => /hard links/.test(r ?? "") && !r?.startsWith("event"))).toHaveLength(3);
    expect(reasons.at(-1)).toMatch(/gave up after 3 attempts/);
  });
});

describe("event queue on PostgreSQL", () => {
  let pg: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    if (process.env.LETHE_TEST_PG_URL) pg = await createTestPgDatabase();
  });
  afterAll(async () => {
    await pg?.drop();
  });

  it("two instances processing the same queue delete each artifact exactly once", async (ctx) => {
    requireService(ctx, "pg");
    const p = makeTransientProject({ state: pg?.url as string });
    const keys = Array.from({ length: 30 }, (_, i) => upload(p, `pg-${i}.bin`));
    const a = await openP(p);
    const b = await openP(p);
    for (const [i, key] of keys.entries())
      await (i % 2 ? a : b).events.enqueue({ requestId: `req-pg-${i}`, artifacts: [{ dataset: "uploads", key }] });
    expect((await a.events.depth()).pending).toBe(30);
    const [ra, rb] = await Promise.all([a.events.process(), b.events.process()]);
    expect(ra.done + rb.done).toBe(30);
    for (const key of keys) expect(existsSync(join(p.data, key))).toBe(false);
    const deleted = (await a.audit.log({})).filter((e) => e.action === "deleted");
    expect(deleted).toHaveLength(30);
    expect(await a.events.depth()).toEqual({ pending: 0, processing: 0, done: 30, failed: 0 });
    expect((await a.audit.verify()).ok).toBe(true);
  });
});

describe("event-driven deletion is opt-in per dataset", () => {
  it("refuses a dataset without events: true, and more artifacts than server.maxEventArtifacts, before storing anything", async () => {
    const p = makeTransientProject({
      datasets: { uploads: { store: "files", include: ["uploads/**"], retention: "1h" } },
      extra: { server: { maxEventArtifacts: 2 } },
    });
    const key = upload(p, "req-x.dcm");
    const lethe = await p.open();
    try {
      const before = await lethe.ledger.size();
      await expect(
        lethe.complete({ requestId: "r-opt", artifacts: [{ dataset: "uploads", key }] }),
      ).rejects.toMatchObject({ code: "VALIDATION", message: expect.stringContaining("events is not true") });
      expect(existsSync(join(p.data, key))).toBe(true);
      expect(await lethe.ledger.size()).toBe(before);
    } finally {
      await lethe.close();
    }
    const q = makeTransientProject({ extra: { server: { maxEventArtifacts: 2 } } });
    const l2 = await q.open();
    try {
      const artifacts = ["a", "b", "c"].map((n) => ({ dataset: "uploads", key: upload(q, `${n}.dcm`) }));
      await expect(l2.complete({ requestId: "r-cap", artifacts })).rejects.toMatchObject({
        code: "VALIDATION",
        message: expect.stringContaining("at most 2"),
      });
      for (const a of artifacts) expect(existsSync(join(q.data, a.key))).toBe(true);
    } finally {
      await l2.close();
    }
  });

  it("a retention: never dataset cannot opt in (config error)", async () => {
    const p = makeTransientProject({
      datasets: { uploads: { store: "files", include: ["uploads/**"], retention: "never", events: true } },
    });
    await expect(p.open()).rejects.toMatchObject({ message: expect.stringContaining("datasets.uploads.events") });
  });
});

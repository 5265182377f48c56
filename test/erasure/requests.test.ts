import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import {
  type ErasureFixture,
  expected,
  filesContaining,
  filesUnder,
  pgFixture,
  remaining,
  sqliteFixture,
} from "./fixture.js";

interface Summary {
  id: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  overdue: boolean;
}
interface Detail extends Summary {
  datasets: { name: string; found: number; deleted: number; held: number; filesRemoved: number }[];
  holds: { id: string; reason: string }[];
  extensions: { by: string; reason: string }[];
  policyHash?: string;
  attempts: number;
}
const DAY = 86_400_000;
const SUBJECTS = ["subject-alpha-0001", "subject-bravo-0002", "subject-charlie-03", "subject-delta-0004"];
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});
function fixture(extra = ""): ErasureFixture {
  const f = sqliteFixture(SUBJECTS, 4, undefined, extra);
  opened.push(f);
  return f;
}
const j = async <T>(args: string[], dir: string, code = 0): Promise<T> => {
  const r = await letheIn([...args, "--json"], dir);
  expect(r.code, r.stderr).toBe(code);
  return r.json as T;
};
function stateRow(f: ErasureFixture, id: string): { subject_box: string | null; status: string } {
  const db = new Database(join(f.dir, ".lethe", "state.db"), { readonly: true });
  try {
    return db.prepare("select subject_box, status from erasure_requests where id = ?").get(id) as {
      subject_box: string | null;
      status: string;
    };
  } finally {
    db.close();
  }
}

describe("erasure requests (CLI, SQLite state)", () => {
  it("create → list → process → show: due dates, overdue, ledger trail, nothing raw in the state", async () => {
    const f = fixture("erasure: { deadline: 10d }\n");
    const received = new Date(Date.now() - 3 * DAY);
    const a = await j<Summary>(
      [
        "requests",
        "create",
        "subject-alpha-0001",
        "--received-at",
        received.toISOString(),
        "--reason",
        "email 2026-03",
      ],
      f.dir,
    );
    expect(a).toEqual({
      id: expect.stringMatching(/^req_/),
      status: "received",
      receivedAt: received.toISOString(),
      dueAt: new Date(received.getTime() + 10 * DAY).toISOString(),
    });
    const old = await j<Summary>(
      ["requests", "create", "subject-bravo-0002", "--received-at", new Date(Date.now() - 12 * DAY).toISOString()],
      f.dir,
    );
    // A second request for a subject with an open one returns the open one.
    expect(await j<Summary & { existing: boolean }>(["requests", "create", "subject-alpha-0001"], f.dir)).toMatchObject(
      {
        id: a.id,
        existing: true,
      },
    );

    const all = (await j<{ requests: Summary[] }>(["requests", "list"], f.dir)).requests;
    expect(all.map((r) => [r.id, r.status, r.overdue])).toEqual([
      [old.id, "received", true],
      [a.id, "received", false],
    ]);
    expect(
      (await j<{ requests: Summary[] }>(["requests", "list", "--overdue"], f.dir)).requests.map((r) => r.id),
    ).toEqual([old.id]);
    expect((await j<Detail>(["requests", "show", a.id], f.dir)).datasets).toEqual([]);

    // Queued, the subject id is in the state only encrypted.
    expect(stateRow(f, a.id).subject_box).not.toBeNull();
    expect(filesContaining([join(f.dir, ".lethe")], "subject-alpha-0001")).toEqual([]);

    const processed = (await j<{ processed: { id: string; status: string }[] }>(["requests", "process"], f.dir))
      .processed;
    expect(processed).toEqual([
      { id: old.id, status: "completed" },
      { id: a.id, status: "completed" },
    ]);
    const want = expected(f, new Set(["subject-alpha-0001", "subject-bravo-0002"]));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);

    const shown = await j<Detail>(["requests", "show", a.id], f.dir);
    expect(shown).toMatchObject({
      id: a.id,
      status: "completed",
      overdue: false,
      attempts: 1,
      policyHash: expect.any(String),
    });
    expect(
      Object.fromEntries(shown.datasets.map((d) => [d.name, [d.found, d.deleted, d.held, d.filesRemoved]])),
    ).toEqual({
      inference_logs: [4, 4, 0, 0],
      training_records: [2, 2, 0, 2],
      uploads: [2, 2, 0, 0],
    });
    // A completed request is no longer overdue, and its subject is wiped from the state.
    expect((await j<{ requests: Summary[] }>(["requests", "list", "--overdue"], f.dir)).requests).toEqual([]);
    expect(stateRow(f, a.id).subject_box).toBeNull();

    const trail = (
      await j<{ entries: { action: string; data?: { requestId?: string } }[] }>(
        ["audit", "log", "--subject", "subject-alpha-0001"],
        f.dir,
      )
    ).entries
      .filter((e) => e.data?.requestId === a.id)
      .map((e) => e.action);
    expect(trail).toEqual(["erasure_requested", "erasure_verified", "erasure_processing", "erasure_completed"]);

    // Processing again changes nothing.
    const size = (await j<{ entries: number }>(["audit", "verify"], f.dir)).entries;
    expect((await j<{ processed: unknown[] }>(["requests", "process"], f.dir)).processed).toEqual([]);
    expect(
      (await j<{ processed: { status: string }[] }>(["requests", "process", a.id], f.dir)).processed[0]?.status,
    ).toBe("completed");
    expect(await j<{ ok: boolean; entries: number }>(["audit", "verify"], f.dir)).toMatchObject({
      ok: true,
      entries: size,
    });
  });

  it("extends a deadline with a reason, refuses to extend an answered request, filters by status", async () => {
    const f = fixture();
    const r = await j<Summary>(
      ["requests", "create", "subject-charlie-03", "--received-at", new Date(Date.now() - 40 * DAY).toISOString()],
      f.dir,
    );
    expect((await j<{ requests: Summary[] }>(["requests", "list", "--overdue"], f.dir)).requests).toHaveLength(1);
    const ext = await j<Detail>(
      ["requests", "extend", r.id, "--by", "30d", "--reason", "complex request, Art. 12(3)"],
      f.dir,
    );
    expect(Date.parse(ext.dueAt) - Date.parse(r.dueAt)).toBe(30 * DAY);
    expect(ext.overdue).toBe(false);
    expect(ext.extensions).toEqual([expect.objectContaining({ by: "30d", reason: "complex request, Art. 12(3)" })]);
    const log = await j<{ entries: { action: string; reason?: string }[] }>(
      ["audit", "log", "--subject", "subject-charlie-03"],
      f.dir,
    );
    expect(log.entries.map((e) => e.action)).toContain("erasure_extended");
    expect(
      (await j<{ requests: Summary[] }>(["requests", "list", "--status", "received"], f.dir)).requests,
    ).toHaveLength(1);
    expect(
      (await j<{ requests: Summary[] }>(["requests", "list", "--status", "completed"], f.dir)).requests,
    ).toHaveLength(0);
    await j(["requests", "process", r.id], f.dir);
    expect(
      (await j<{ requests: Summary[] }>(["requests", "list", "--status", "completed"], f.dir)).requests,
    ).toHaveLength(1);
    expect((await letheIn(["requests", "extend", r.id, "--by", "5d", "--reason", "x"], f.dir)).code).toBe(3);
    expect((await letheIn(["requests", "extend", r.id, "--by", "5", "--reason", "x"], f.dir)).code).toBe(2);
    expect((await letheIn(["requests", "list", "--status", "done"], f.dir)).code).toBe(2);
    expect((await letheIn(["requests", "show", "req_nope"], f.dir)).code).toBe(2);
    expect(
      (
        await letheIn(
          ["requests", "create", "x-subject", "--received-at", new Date(Date.now() + 3 * DAY).toISOString()],
          f.dir,
        )
      ).code,
    ).toBe(2);
  });

  it("a hold makes a request partially_held (exit 3); after release it completes, counting every attempt", async () => {
    const f = fixture();
    const hold = await j<{ id: string }>(
      ["hold", "add", "--dataset", "training_records", "--reason", "regulator audit 2026"],
      f.dir,
    );
    const r = await j<Summary>(["requests", "create", "subject-delta-0004"], f.dir);
    const first = await letheIn(["requests", "process", r.id, "--json"], f.dir);
    expect(first.code).toBe(3);
    const held = await j<Detail>(["requests", "show", r.id], f.dir);
    expect(held.status).toBe("partially_held");
    expect(held.holds).toEqual([expect.objectContaining({ id: hold.id, reason: "regulator audit 2026" })]);
    // Not overdue (answered as far as the law allows), but the subject is kept sealed to finish later.
    expect(stateRow(f, r.id).subject_box).not.toBeNull();
    expect(await remaining(f, "training_records")).toHaveLength(f.training.length);
    const receiptOf = async () =>
      (JSON.parse((await letheIn(["requests", "receipt", r.id], f.dir)).stdout) as { receipt: { status: string } })
        .receipt;
    expect((await receiptOf()).status).toBe("partially_held");

    await j(["hold", "release", hold.id], f.dir);
    expect(
      (await j<{ processed: { status: string }[] }>(["requests", "process", r.id], f.dir)).processed[0]?.status,
    ).toBe("completed");
    const done = await j<Detail>(["requests", "show", r.id], f.dir);
    expect(done.attempts).toBe(2);
    expect(Object.fromEntries(done.datasets.map((d) => [d.name, [d.deleted, d.held, d.filesRemoved]]))).toEqual({
      inference_logs: [4, 0, 0],
      training_records: [2, 0, 2],
      uploads: [2, 0, 0],
    });
    expect(stateRow(f, r.id).subject_box).toBeNull();
    expect(await remaining(f, "training_records")).toEqual(expected(f, new Set(["subject-delta-0004"])).training);
    // --json prints the receipt byte for byte, so it still verifies offline.
    writeFileSync(join(f.dir, "r.json"), (await letheIn(["requests", "receipt", r.id, "--json"], f.dir)).stdout);
    writeFileSync(join(f.dir, "pub.pem"), (await letheIn(["audit", "public-key"], f.dir)).stdout);
    expect((await letheIn(["receipt", "verify", "r.json", "--public-key", "pub.pem"], f.dir)).code).toBe(0);
    // The receipt now speaks for the completed outcome, not the earlier held one.
    expect(await receiptOf()).toMatchObject({
      status: "completed",
      datasets: expect.arrayContaining([expect.objectContaining({ name: "training_records", deleted: 2 })]),
    });
  });
});

describe("erasure requests on PostgreSQL state (library)", () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d().catch(() => undefined);
  });

  it("runs the same lifecycle through the library", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const f = await pgFixture(db.url, ["pg-alpha-subject", "pg-bravo-subject"], 3, undefined, { state: db.url });
    const lethe = await openLethe(join(f.dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    try {
      const r = await lethe.requests.create("pg-alpha-subject", { reason: "web form" });
      expect(r.status).toBe("received");
      expect(Date.parse(r.dueAt) - Date.parse(r.receivedAt)).toBe(30 * DAY);
      const ext = await lethe.requests.extend(r.id, "15d", "identity check pending");
      expect(Date.parse(ext.dueAt) - Date.parse(r.dueAt)).toBe(15 * DAY);
      expect(await lethe.requests.list({ status: "received" })).toHaveLength(1);
      expect(await lethe.requests.process()).toEqual([{ id: r.id, status: "completed" }]);
      const shown = await lethe.requests.show(r.id);
      expect(shown.datasets.find((d) => d.name === "inference_logs")).toMatchObject({ found: 3, deleted: 3 });
      expect(await remaining(f, "inference_logs")).toEqual(expected(f, new Set(["pg-alpha-subject"])).logs);
      const receipt = JSON.parse(await lethe.requests.receipt(r.id));
      expect(receipt.receipt).toMatchObject({ requestId: r.id, status: "completed", subjectHash: shown.subjectHash });
      expect((await lethe.audit.verify()).ok).toBe(true);
      const box = await lethe.state.db
        .selectFrom("erasure_requests")
        .select("subject_box")
        .where("id", "=", r.id)
        .executeTakeFirstOrThrow();
      expect(box.subject_box).toBeNull();
    } finally {
      await lethe.close();
    }
  });
});

import mysql from "mysql2/promise";
import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { createTestMysqlDatabase, requireService } from "../helpers/services.js";
import { expected, filesUnder, mysqlFixture, remaining } from "./fixture.js";

interface Json {
  datasets: {
    name: string;
    found: number;
    deleted: number;
    failed: number;
    held: number;
    residue: number;
    residueKeys: number[];
  }[];
  residue: number;
  held: number;
}
/** Several subjects: one result per subject. */
type Many = { subjects: (Json & { subject: string })[] };
const SUBJECTS = Array.from({ length: 6 }, (_, i) => `my-user-${i}`);
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d().catch(() => undefined);
});

async function fixture() {
  const db = await createTestMysqlDatabase();
  drops.push(db.drop);
  return mysqlFixture(db.url, SUBJECTS, 5);
}

async function exec(url: string, sql: string): Promise<void> {
  const c = await mysql.createConnection(url);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const by = (j: Json) => Object.fromEntries(j.datasets.map((d) => [d.name, d]));
const of = (j: unknown, subject: string) => by((j as Many).subjects.find((x) => x.subject === subject) as Json);

describe("erasure on a MariaDB target", () => {
  it("erases every row and linked file of the subject, nothing of anyone else, and verifies no residue", async (ctx) => {
    requireService(ctx, "mysql");
    const f = await fixture();
    const r = await letheIn(["erase", "my-user-2", "my-user-4", "--yes", "--json"], f.dir);
    expect(r.code).toBe(0);
    for (const subject of ["my-user-2", "my-user-4"]) {
      const d = of(r.json, subject);
      expect(d.inference_logs).toMatchObject({ found: 5, deleted: 5, residue: 0 });
      expect(d.training_records).toMatchObject({ found: 2, deleted: 2, residue: 0 });
    }
    const want = expected(f, new Set(["my-user-2", "my-user-4"]));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toEqual(want.training);
    expect(filesUnder(f.models)).toEqual(want.modelFiles);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);
    expect((await letheIn(["audit", "verify", "--json"], f.dir)).json).toMatchObject({ ok: true });
  });

  it("a row the database refuses to delete (a trigger's SIGNAL) fails alone and is reported as residue (exit 1)", async (ctx) => {
    requireService(ctx, "mysql");
    const f = await fixture();
    const rows = f.logs.filter((x) => x.subject === "my-user-1").map((x) => x.id);
    const stuck = rows[2] as number;
    await exec(
      f.target,
      `create trigger keep_row before delete on inference_logs for each row
       if old.id = ${stuck} then signal sqlstate '45000' set message_text = 'my-user-1 is kept, ask owner@example.com'; end if`,
    );
    const r = await letheIn(["erase", "my-user-1", "--yes", "--json"], f.dir);
    expect(r.code).toBe(1);
    const logs = by(r.json as Json).inference_logs;
    expect(logs).toMatchObject({ found: 5, deleted: 4, failed: 1, residue: 1, residueKeys: [stuck] });
    // The database's text is masked in the output exactly as on the ledger: no subject id, no email.
    const reason = (logs as unknown as { failures: { reason: string }[] }).failures[0]?.reason;
    expect(reason).toMatch(/\[SUBJECT\] is kept, ask \[EMAIL\]/);
    expect(r.stdout).not.toMatch(/owner@example\.com|my-user-1 is kept/);
    const failed = (await letheIn(["audit", "export", "--format", "jsonl"], f.dir)).stdout
      .split("\n")
      .find((l) => l.includes('"action":"failed"'));
    expect(JSON.parse(failed as string).reason).toBe(reason);
    expect(await remaining(f, "inference_logs")).toContain(stuck);
    await exec(f.target, "drop trigger keep_row");
    const again = await letheIn(["erase", "my-user-1", "--yes", "--json"], f.dir);
    expect(again.code).toBe(0);
    expect((again.json as Json).residue).toBe(0);
    expect(await remaining(f, "inference_logs")).not.toContain(stuck);
  });

  it("a system-versioned table is refused at load, naming the dataset, before anything is deleted", async (ctx) => {
    requireService(ctx, "mysql");
    const f = await fixture();
    const before = await remaining(f, "inference_logs");
    await exec(f.target, "alter table inference_logs add system versioning");
    for (const args of [
      ["erase", "my-user-1", "--yes", "--json"],
      ["apply", "--json"],
    ]) {
      const r = await letheIn(args, f.dir);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/CONFIG_INVALID/);
      expect(r.stdout + r.stderr).toMatch(
        /datasets\.inference_logs\.table: table "inference_logs": the table is system-versioned/,
      );
    }
    expect(await remaining(f, "inference_logs")).toEqual(before);
    expect(await remaining(f, "training_records")).toEqual(expected(f, new Set()).training);
  });

  it("a held subject keeps every row (exit 3); the others' rows still go", async (ctx) => {
    requireService(ctx, "mysql");
    const f = await fixture();
    expect((await letheIn(["hold", "add", "--subject", "my-user-3", "--reason", "litigation"], f.dir)).code).toBe(0);
    const r = await letheIn(["erase", "my-user-3", "my-user-5", "--yes", "--json"], f.dir);
    expect(r.code).toBe(3);
    expect(of(r.json, "my-user-3").inference_logs).toMatchObject({ found: 5, deleted: 0, held: 5 });
    expect(of(r.json, "my-user-5").inference_logs).toMatchObject({ found: 5, deleted: 5, held: 0 });
    const want = expected(f, new Set(["my-user-5"]));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toEqual(want.training);
  });
});

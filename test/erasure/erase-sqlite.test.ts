import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import {
  CANARY,
  type ErasureFixture,
  expected,
  filesContaining,
  filesUnder,
  remaining,
  sqliteFixture,
} from "./fixture.js";

interface DatasetJson {
  name: string;
  found: number;
  deleted: number;
  held: number;
  filesRemoved: number;
  residue: number;
}
interface EraseJson {
  subject: string;
  dryRun: boolean;
  runId?: string;
  datasets: DatasetJson[];
}

const SUBJECTS = Array.from({ length: 12 }, (_, i) => `user-${i}`);
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});

function fixture(...args: Parameters<typeof sqliteFixture>): ErasureFixture {
  const f = sqliteFixture(...args);
  opened.push(f);
  return f;
}

function byName(j: { datasets: DatasetJson[] }): Record<string, DatasetJson> {
  return Object.fromEntries(j.datasets.map((d) => [d.name, d]));
}

describe("lethe erase on a SQLite target", () => {
  it("a dry run counts per dataset, touches nothing and writes one ledger entry", async () => {
    const f = fixture(SUBJECTS, 6);
    const before = (await letheIn(["audit", "log", "--subject", "user-3", "--json"], f.dir)).json as {
      entries: unknown[];
    };
    const r = await letheIn(["erase", "user-3", "--json"], f.dir);
    expect(r.code).toBe(0);
    const j = r.json as EraseJson;
    expect(j.subject).toBe("user-3");
    expect(j.dryRun).toBe(true);
    const d = byName(j);
    expect(d.inference_logs).toMatchObject({ found: 6, deleted: 0, held: 0, filesRemoved: 0 });
    expect(d.training_records).toMatchObject({ found: 3, deleted: 0 });
    expect(d.uploads).toMatchObject({ found: 2, deleted: 0 });
    expect(d.checkpoints).toBeUndefined(); // no subject: not an erasure target
    expect(await remaining(f, "inference_logs")).toHaveLength(f.logs.length);
    expect(filesUnder(f.uploads)).toHaveLength(f.uploadFiles.length);
    const after = (await letheIn(["audit", "log", "--subject", "user-3", "--json"], f.dir)).json as {
      entries: { action: string; reason?: string }[];
    };
    expect(after.entries.length - before.entries.length).toBe(1);
    expect(after.entries.at(-1)).toMatchObject({ action: "plan", reason: "erasure dry run" });
  });

  it("--yes deletes every row, linked file and upload of the subject and nothing of anyone else", async () => {
    const f = fixture(SUBJECTS, 8);
    const r = await letheIn(["erase", "user-5", "--yes", "--reason", "ticket 42", "--json"], f.dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const j = r.json as EraseJson;
    expect(j.dryRun).toBe(false);
    expect(j.runId).toMatch(/^run_/);
    const d = byName(j);
    expect(d.inference_logs).toEqual(expect.objectContaining({ found: 8, deleted: 8, held: 0, residue: 0 }));
    expect(d.training_records).toEqual(expect.objectContaining({ found: 4, deleted: 4, filesRemoved: 4 }));
    expect(d.uploads).toEqual(expect.objectContaining({ found: 2, deleted: 2 }));

    const want = expected(f, new Set(["user-5"]));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toEqual(want.training);
    expect(filesUnder(f.models)).toEqual(want.modelFiles);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);

    // Every deleted item is on the ledger with reason "erasure", and the ledger verifies.
    const log = (await letheIn(["audit", "log", "--run", j.runId as string, "--json"], f.dir)).json as {
      entries: { action: string; reason?: string; dataset?: string }[];
    };
    const deleted = log.entries.filter((e) => e.action === "deleted");
    expect(deleted.filter((e) => e.reason === "erasure")).toHaveLength(8 + 4 + 2);
    expect(deleted.filter((e) => e.reason === "erasure: linked file")).toHaveLength(4);
    expect((await letheIn(["audit", "verify", "--json"], f.dir)).json).toMatchObject({ ok: true });

    // Erasing again finds nothing and is still a success.
    const again = await letheIn(["erase", "user-5", "--yes", "--json"], f.dir);
    expect(again.code).toBe(0);
    expect((again.json as EraseJson).datasets.every((x) => x.found === 0)).toBe(true);
  });

  it("--from FILE erases several subjects; the JSON is {dryRun, runId, subjects:[…]}", async () => {
    const f = fixture(SUBJECTS, 4);
    writeFileSync(join(f.dir, "subjects.txt"), "user-1\n\nuser-7\r\n  user-9  \nuser-1\n");
    const r = await letheIn(["erase", "user-2", "--from", "subjects.txt", "--yes", "--json"], f.dir);
    expect(r.code).toBe(0);
    const j = r.json as { dryRun: boolean; runId: string; subjects: EraseJson[] };
    expect(j.dryRun).toBe(false);
    expect(j.subjects.map((s) => s.subject)).toEqual(["user-2", "user-1", "user-7", "user-9"]);
    for (const s of j.subjects) expect(byName(s).inference_logs?.deleted).toBe(4);
    const erased = new Set(["user-1", "user-2", "user-7", "user-9"]);
    const want = expected(f, erased);
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toEqual(want.training);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);
  });

  it("leaves no trace of an erased prompt in the database file or its WAL, nor of the subject in lethe's state", async () => {
    const victim = "victim-8f2c41";
    const f = fixture([...SUBJECTS, victim], 5, victim);
    const targetFiles = [f.target, `${f.target}-wal`];
    // Precondition, so the test can fail: the canary really is in the files before the erasure.
    expect(filesContaining(targetFiles, CANARY).length).toBeGreaterThan(0);
    const r = await letheIn(["erase", victim, "--yes", "--json"], f.dir);
    expect(r.code).toBe(0);
    // The app's own page splits had left a stale copy in free page space: found and rewritten away.
    expect((r.json as { scrub: unknown[] }).scrub).toEqual([
      expect.objectContaining({ store: "appdb", mode: "verify", vacuumed: true, complete: true }),
    ]);
    expect(filesContaining(targetFiles, CANARY)).toEqual([]);
    expect(filesContaining(targetFiles, victim)).toEqual([]);
    // lethe's state folder (state.db, its WAL, keys) never held the subject id or the prompt.
    await letheIn(["requests", "create", victim, "--json"], f.dir); // a queued request keeps the id only encrypted
    const state = join(f.dir, ".lethe");
    expect(filesContaining([state], victim)).toEqual([]);
    expect(filesContaining([state], CANARY)).toEqual([]);
    // The app's own connection still works and sees everyone else.
    expect(
      ((f.app as NonNullable<typeof f.app>).prepare("select count(*) as n from inference_logs").get() as { n: number })
        .n,
    ).toBe(f.logs.length - 5);
  });

  it("with erasure.scrub: checkpoint, stale copies the app left in free page space survive (why verify is the default)", async () => {
    const victim = "victim-8f2c41";
    const f = fixture([...SUBJECTS, victim], 5, victim, "erasure: { scrub: checkpoint }\n");
    const r = await letheIn(["erase", victim, "--yes", "--json"], f.dir);
    expect(r.code).toBe(0);
    expect(await remaining(f, "inference_logs")).toEqual(expected(f, new Set([victim])).logs);
    // The live row is gone (secure_delete zeroed it) but an older copy from a page split is still in the file.
    expect(filesContaining([f.target], CANARY)).toEqual([f.target]);
    // Erasing again in verify mode finds the leftover through the subject's id and rewrites the file.
    const yaml = join(f.dir, "lethe.yaml");
    writeFileSync(yaml, readFileSync(yaml, "utf8").replace("scrub: checkpoint", "scrub: verify"));
    expect((await letheIn(["erase", victim, "--yes", "--json"], f.dir)).code).toBe(0);
    expect(filesContaining([f.target, `${f.target}-wal`], CANARY)).toEqual([]);
  });

  it("a reader that keeps the WAL from being checkpointed makes the erasure exit 1 (files not clean)", async () => {
    const victim = "victim-8f2c41";
    const f = fixture([...SUBJECTS, victim], 3, victim);
    const app = f.app as NonNullable<typeof f.app>;
    // lethe waits for the reader up to the store's busyTimeout (10 s by default) before it reports it.
    const yaml = join(f.dir, "lethe.yaml");
    writeFileSync(
      yaml,
      readFileSync(yaml, "utf8").replace(/(appdb: \{ kind: sql, url: "[^"]*")/, "$1, busyTimeout: 500ms"),
    );
    app.exec("begin"); // a long read transaction in the application pins the old WAL frames
    app.prepare("select count(*) from inference_logs").get();
    const started = Date.now();
    const r = await letheIn(["erase", victim, "--yes", "--json"], f.dir);
    // The 500ms took effect: with the default, the checkpoint alone would have waited 10 s.
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(r.code).toBe(1);
    const scrub = (r.json as { scrub: { complete: boolean; reason: string }[] }).scrub[0];
    expect(scrub?.complete).toBe(false);
    expect(scrub?.reason).toMatch(/kept the WAL from being checkpointed/);
    expect(await remaining(f, "inference_logs")).toHaveLength(f.logs.length); // still its old snapshot
    app.exec("commit");
    // With the reader gone, erasing again finishes the job.
    const again = await letheIn(["erase", victim, "--yes", "--json"], f.dir);
    expect(again.code).toBe(0);
    expect(filesContaining([f.target, `${f.target}-wal`], CANARY)).toEqual([]);
  }, 90_000);

  it("refuses bad input before touching anything (exit 2)", async () => {
    const f = fixture(SUBJECTS, 2);
    expect((await letheIn(["erase", "--yes"], f.dir)).code).toBe(2);
    expect((await letheIn(["erase", "--from", "missing.txt", "--yes"], f.dir)).code).toBe(2);
    expect(await remaining(f, "inference_logs")).toHaveLength(f.logs.length);
  });
});

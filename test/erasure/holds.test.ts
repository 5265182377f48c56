import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { type ErasureFixture, expected, filesUnder, remaining, sqliteFixture } from "./fixture.js";

interface Json {
  datasets: { name: string; found: number; deleted: number; held: number }[];
  holds: { id: string; reason: string; dataset: string; held: number }[];
  held: number;
}
const SUBJECTS = ["ann", "bob", "cid"];
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});
function fixture(): ErasureFixture {
  const f = sqliteFixture(SUBJECTS, 4);
  opened.push(f);
  return f;
}

describe("legal holds during erasure", () => {
  it("a subject hold keeps every item of the subject, exits 3 and cites the hold and its reason", async () => {
    const f = fixture();
    const add = await letheIn(
      ["hold", "add", "--subject", "bob", "--reason", "litigation #7 (Smith v. Acme)", "--json"],
      f.dir,
    );
    expect(add.code).toBe(0);
    const holdId = (add.json as { id: string }).id;
    const r = await letheIn(["erase", "bob", "--yes", "--json"], f.dir);
    expect(r.code).toBe(3);
    const j = r.json as Json;
    expect(j.held).toBe(4 + 2 + 2);
    for (const d of j.datasets) expect(d.deleted).toBe(0);
    expect(j.holds.map((h) => [h.id, h.reason, h.dataset, h.held])).toEqual([
      [holdId, "litigation #7 (Smith v. Acme)", "inference_logs", 4],
      [holdId, "litigation #7 (Smith v. Acme)", "training_records", 2],
      [holdId, "litigation #7 (Smith v. Acme)", "uploads", 2],
    ]);
    expect(await remaining(f, "inference_logs")).toHaveLength(f.logs.length);
    expect(filesUnder(f.uploads)).toHaveLength(f.uploadFiles.length);
    const text = await letheIn(["erase", "bob", "--yes"], f.dir);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(`held back by hold ${holdId}`);
    expect(text.stdout).toContain("litigation #7 (Smith v. Acme)");
    // Each skip is on the ledger.
    const log = (await letheIn(["audit", "log", "--subject", "bob", "--json"], f.dir)).json as {
      entries: { action: string }[];
    };
    expect(log.entries.filter((e) => e.action === "held").length).toBe(2 * 8);
    // Released: the next erasure goes through.
    expect((await letheIn(["hold", "release", holdId], f.dir)).code).toBe(0);
    expect((await letheIn(["erase", "bob", "--yes"], f.dir)).code).toBe(0);
    expect(await remaining(f, "inference_logs")).toEqual(expected(f, new Set(["bob"])).logs);
  });

  it("a dataset hold keeps that dataset only; the rest of the subject is erased; exit 3", async () => {
    const f = fixture();
    const add = await letheIn(
      ["hold", "add", "--dataset", "training_records", "--reason", "model audit", "--json"],
      f.dir,
    );
    const holdId = (add.json as { id: string }).id;
    const r = await letheIn(["erase", "ann", "--yes", "--json"], f.dir);
    expect(r.code).toBe(3);
    const j = r.json as Json;
    const by = Object.fromEntries(j.datasets.map((d) => [d.name, d]));
    expect(by.inference_logs).toMatchObject({ found: 4, deleted: 4, held: 0 });
    expect(by.training_records).toMatchObject({ found: 2, deleted: 0, held: 2 });
    expect(by.uploads).toMatchObject({ deleted: 2 });
    expect(j.holds).toEqual([{ id: holdId, reason: "model audit", dataset: "training_records", held: 2 }]);
    const want = expected(f, new Set(["ann"]));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toHaveLength(f.training.length);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);
  });

  it("a dry run under a hold reports what would be held and exits 0", async () => {
    const f = fixture();
    await letheIn(["hold", "add", "--subject", "cid", "--reason", "tax records"], f.dir);
    const r = await letheIn(["erase", "cid", "--json"], f.dir);
    expect(r.code).toBe(0);
    expect((r.json as Json).held).toBe(8);
    expect((r.json as Json).holds[0]?.reason).toBe("tax records");
  });
});
